#!/usr/bin/env node
// Committed entry point, so npm links the `volact` bin at install time, before the build.
import '../dist/main.js';
