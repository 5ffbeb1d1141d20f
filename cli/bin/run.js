#!/usr/bin/env node
// The `hmdrv` entry point. oclif walks up from here to the package.json at the repository
// root and loads commands from ./dist/cli/commands (build first: `npx tsc -p tsconfig.json`).
import 'reflect-metadata';
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
