// Mocha reporter: the usual spec output, plus a JSON file with the counts that scripts/test.js
// totals. The file is named by the AL_RESULT_FILE environment variable (nothing is written
// without it). Used with `mocha --reporter scripts/lib/mocha-count-reporter.js`.
'use strict';

const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');

const { EVENT_RUN_END, EVENT_TEST_FAIL } = Mocha.Runner.constants;

class CountReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const failures = [];
    runner.on(EVENT_TEST_FAIL, (test, err) => {
      failures.push({ title: test.fullTitle(), error: String((err && err.message) || err) });
    });
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.AL_RESULT_FILE;
      if (!file) return;
      const stats = runner.stats || {};
      const result = {
        passed: stats.passes || 0,
        failed: stats.failures || 0,
        skipped: stats.pending || 0,
        failures,
      };
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(result, null, 2));
    });
  }
}

module.exports = CountReporter;
