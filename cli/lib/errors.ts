/**
 * @module cli/lib/errors
 * Turns any failure into what the CLI prints: one message line plus suggestions, no stack.
 * Errors from the running platform (ControlError) and the framework (HmError) already carry
 * a user-facing message, an errno-style code and suggestions.
 *
 * @example
 * const { message, suggestions } = describeError(err);
 * this.error(message, { exit: 1, suggestions });
 */
import { HmError } from '../../framework/errors/hm-error.js';

export interface CliFailure {
  message: string;
  suggestions: string[];
  code?: string;
}

export function describeError(e: unknown): CliFailure {
  if (e instanceof HmError) return { message: e.message, suggestions: e.suggestions, code: e.code };
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { message: e.message, suggestions: [], ...(typeof code === 'string' ? { code } : {}) };
  }
  return { message: String(e), suggestions: [] };
}
