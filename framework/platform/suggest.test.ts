import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closest, didYouMean, levenshtein } from './suggest.js';

describe('levenshtein', () => {
  it('counts insertions, deletions, substitutions and adjacent swaps', () => {
    assert.equal(levenshtein('', ''), 0);
    assert.equal(levenshtein('abc', ''), 3);
    assert.equal(levenshtein('', 'abc'), 3);
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(levenshtein('interupts', 'interrupts'), 1);
    assert.equal(levenshtein('flaw', 'lawn'), 2);
    assert.equal(levenshtein('entyr', 'entry'), 1); // adjacent swap
    assert.equal(levenshtein('ca', 'abc'), 3); // optimal string alignment, not full Damerau
  });
});

describe('closest / didYouMean', () => {
  it('ranks close candidates and drops far ones', () => {
    assert.deepEqual(closest('hmeco', ['hmecho', 'hmuart', 'hmufs']), ['hmecho']);
    assert.deepEqual(closest('ic3', ['ic0', 'ic1', 'ic2']), ['ic0', 'ic1', 'ic2']);
    assert.deepEqual(closest('zzzzzz', ['hmecho', 'hmuart']), []);
  });

  it('ignores case', () => {
    assert.deepEqual(closest('Interrupts', ['interrupts', 'name']), ['interrupts']);
  });

  it('phrases the suggestion', () => {
    assert.equal(didYouMean('compatable', ['compatible', 'name']), 'did you mean "compatible"?');
    assert.equal(didYouMean('ab', ['ac', 'ad']), 'did you mean "ac" or "ad"?');
    assert.equal(didYouMean('x', ['compatible']), undefined);
  });
});
