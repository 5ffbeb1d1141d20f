/**
 * @module vfs/path
 * Lexical checks of a path: absolute only, split into components. `.` is dropped here;
 * `..` is kept and resolved during the walk (after symlinks, as Linux does).
 */
import { sysErr } from './errors.js';

export const PATH_MAX = 4096;
export const NAME_MAX = 255;

export interface ParsedPath {
  components: string[];
  /** The path ends in '/', so its last component must be (or lead to) a directory. */
  trailingSlash: boolean;
}

/** Splits `path`; `absolute` false is for symlink targets (relative to the link's directory). */
export function splitPath(path: string, syscall: string, errPath: string, absolute = true): ParsedPath {
  if (typeof path !== 'string' || path.length === 0) throw sysErr('ENOENT', syscall, errPath);
  if (path.includes('\0')) throw sysErr('EINVAL', syscall, errPath, 'path contains a NUL byte');
  if (absolute && !path.startsWith('/')) throw sysErr('EINVAL', syscall, errPath, 'path must be absolute');
  if (path.length >= PATH_MAX) throw sysErr('ENAMETOOLONG', syscall, errPath);
  const components: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c.length > NAME_MAX) throw sysErr('ENAMETOOLONG', syscall, errPath);
    components.push(c);
  }
  return { components, trailingSlash: path.length > 1 && path.endsWith('/') };
}

export function isAbsolute(path: string): boolean {
  return path.startsWith('/');
}
