// The tests' entry point into the library: what a command or src/index.ts does on
// import, plugging in the link transports. ava loads it before every test file
// (package.json, ava.require); helper programs the tests start import it first.
import '../../src/transport/transports.js';
