#!/usr/bin/env node
// The CLI runs from the build; `npm run build` first (the npm scripts do it for you).
import '../../dist/tools/cli/main.js';
