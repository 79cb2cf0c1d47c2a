// Prints jest's JSON result as the plain closing line CI reads: "jest: N passed, N failed, N skipped".
const results = require(require('node:path').resolve(process.argv[2]));
console.log(
  `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped`,
);
