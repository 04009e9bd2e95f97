#!/usr/bin/env node
// One proxyctl epoch (a proxy generation). The supervisor spawns it; see src/epoch/process/main.ts.
import '../dist/src/epoch/process/main.js';
