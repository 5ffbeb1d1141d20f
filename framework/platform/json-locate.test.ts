import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { childPath, JsonSyntaxError, parseJsonLocated } from './json-locate.js';

/** Parses `text` expecting a syntax error; returns "line:col reason". */
function syntax(text: string): string {
  try {
    parseJsonLocated(text);
  } catch (e) {
    assert.ok(e instanceof JsonSyntaxError);
    return `${e.pos.line}:${e.pos.col} ${e.reason}`;
  }
  assert.fail(`no syntax error in ${JSON.stringify(text)}`);
}

describe('parseJsonLocated', () => {
  it('parses the same values as JSON.parse', () => {
    const samples = ['{"a":[1,-2.5e3,true,false,null,"x\\n\\u00e9\\"\\\\\\/"],"b":{}}', '[]', '"s"', '0', '-0.125', ' {"a" : { "b" : [ [ ] ] } } '];
    for (const s of samples) assert.deepEqual(parseJsonLocated(s).value, JSON.parse(s));
  });

  it('records the position of every value and key by path', () => {
    const text = '{\n  "devices": [\n    { "name": "echo0", "reg": [ { "size": "-1" } ] }\n  ],\n  "odd-key": 1\n}';
    const { locations } = parseJsonLocated(text);
    assert.deepEqual(locations.get('')?.value, { offset: 0, line: 1, col: 1 });
    assert.deepEqual(locations.get('devices')?.key, { offset: 4, line: 2, col: 3 });
    assert.equal(locations.get('devices')?.value.col, 14);
    const name = locations.get('devices[0].name')!;
    assert.deepEqual([name.key!.line, name.key!.col, name.value.line, name.value.col], [3, 7, 3, 15]);
    const size = locations.get('devices[0].reg[0].size')!.value;
    assert.deepEqual([size.line, size.col], [3, 43]);
    assert.equal(text.slice(size.offset, size.offset + 4), '"-1"');
    assert.deepEqual(locations.get('["odd-key"]')?.value.line, 5);
  });

  it('reports duplicate keys and keeps the last value', () => {
    const r = parseJsonLocated('{"a": 1,\n "a": 2}');
    assert.deepEqual(r.value, { a: 2 });
    assert.equal(r.duplicateKeys.length, 1);
    assert.equal(r.duplicateKeys[0]!.path, 'a');
    assert.deepEqual([r.duplicateKeys[0]!.at.line, r.duplicateKeys[0]!.at.col], [2, 2]);
    assert.deepEqual([r.duplicateKeys[0]!.first.line, r.duplicateKeys[0]!.first.col], [1, 2]);
  });

  it('stores a "__proto__" key as data', () => {
    const v = parseJsonLocated('{"__proto__": {"polluted": true}}').value as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('skips a byte-order mark', () => {
    assert.deepEqual(parseJsonLocated('\ufeff{"a": 1}').value, { a: 1 });
  });

  it('reports syntax errors at their line and column', () => {
    assert.equal(syntax('{\n  "a": [1, 2,]\n}'), '2:13 trailing comma before "]" is not allowed in JSON');
    assert.equal(syntax('{"a": 1,}'), '1:8 trailing comma before "}" is not allowed in JSON');
    assert.equal(syntax('{\n  name: 1\n}'), '2:3 expected a double-quoted property name, got token "name"');
    assert.equal(syntax('{"a" 1}'), '1:6 expected ":" after property name "a", got token "1"');
    assert.equal(syntax('{"a": 1 "b": 2}'), '1:9 expected "," or "}" after a property value, got character "\\""');
    assert.equal(syntax('[1 2]'), '1:4 expected "," or "]" after an array element, got token "2"');
    assert.equal(syntax('{"a": "x'), '1:7 unterminated string');
    assert.equal(syntax('{"a": "x\n"}'), '1:7 unterminated string (a string cannot span lines; write \\n)');
    assert.equal(syntax('"\\q"'), '1:2 bad escape "\\\\q" in string');
    assert.equal(syntax('"\\u12"'), '1:2 bad \\u escape (expected 4 hex digits)');
    assert.equal(syntax('"a\tb"'), '1:3 control character in string (escape it, e.g. \\t)');
    assert.equal(syntax('{"a": 0x10}'), '1:7 invalid number "0x10" (write hex numbers as strings: "0x10")');
    assert.equal(syntax('[01]'), '1:2 invalid number "01"');
    assert.equal(syntax('[1.]'), '1:2 invalid number "1."');
    assert.equal(syntax("{'a': 1}"), '1:2 expected a double-quoted property name, got character "\'"');
    assert.equal(syntax("['a']"), '1:2 unexpected character "\'" (JSON strings use double quotes)');
    assert.equal(syntax('[truth]'), '1:2 unexpected token "truth" (expected a JSON value)');
    assert.equal(syntax('{"a": 1}\n// note'), '2:1 comments are not allowed in JSON');
    assert.equal(syntax('{"a": 1} x'), '1:10 unexpected token "x" after the end of the JSON value');
    assert.equal(syntax('{"a": '), '1:7 unexpected end of input (expected a JSON value)');
    assert.equal(syntax('  \n '), '2:2 the file is empty (expected a JSON value)');
  });

  it('gives an excerpt with a caret under the column', () => {
    try {
      parseJsonLocated('{\n  "a": [1, 2,]\n}');
      assert.fail('expected a syntax error');
    } catch (e) {
      assert.ok(e instanceof JsonSyntaxError);
      assert.equal(e.excerpt, '  "a": [1, 2,]\n            ^');
    }
  });

  it('clips long lines in excerpts around the column', () => {
    const line = `[${'1,'.repeat(100)}x]`;
    try {
      parseJsonLocated(line);
      assert.fail('expected a syntax error');
    } catch (e) {
      assert.ok(e instanceof JsonSyntaxError);
      const [text, caret] = e.excerpt.split('\n') as [string, string];
      assert.ok(text.length <= 82);
      assert.equal(text[caret.indexOf('^')], 'x');
    }
  });

  it('rejects absurd nesting instead of overflowing the stack', () => {
    assert.match(syntax('['.repeat(10000)), /nesting deeper than/);
  });
});

describe('childPath', () => {
  it('writes identifiers with dots and other keys quoted', () => {
    assert.equal(childPath('', 'devices'), 'devices');
    assert.equal(childPath('devices', 2), 'devices[2]');
    assert.equal(childPath('devices[2]', 'reg'), 'devices[2].reg');
    assert.equal(childPath('properties', 'buffer-size'), 'properties["buffer-size"]');
  });
});
