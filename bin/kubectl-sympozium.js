#!/usr/bin/env node
// kubectl plugin entry: `kubectl sympozium ...` runs this file with the same arguments.
import './sympozium.js';
