// Copies the node's icon next to the compiled node (tsc only emits .js).
const fs = require('fs');
const path = require('path');
const from = path.join(__dirname, '..', 'nodes', 'Revgov', 'revgov.svg');
const to = path.join(__dirname, '..', 'dist', 'nodes', 'Revgov', 'revgov.svg');
fs.mkdirSync(path.dirname(to), { recursive: true });
fs.copyFileSync(from, to);
