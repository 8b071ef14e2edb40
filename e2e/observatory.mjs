// Grades one URL with the MDN HTTP Observatory's own library code
// (npm @mdn/mdn-http-observatory): its retriever, its ten tests and its
// grader, combined exactly as its scan() does. scan() itself cannot take a
// port, hence this script.
//
// Input (stdin): a JSON array of targets {"host": "127.0.0.1",
// "httpsPort": 8443, "httpPort": 8080 (0: none), "path": "/"}. Trust for a
// test CA comes from NODE_EXTRA_CA_CERTS. Output (stdout): a JSON array,
// one result per target: {"grade": "A+", "score": 135, "statusCode": 200,
// "verified": true, "tests": {"content-security-policy": {"pass": true,
// "result": "...", "scoreModifier": 10}, ...}, "headers": {...}}, or
// {"error": "..."}.
// Driven by graders_test.go.
import fs from "node:fs";

// The package's install script downloads the HSTS preload list, which
// npm ci --ignore-scripts (and an offline machine) skips. Without it, the
// library would crash; an empty list is the truth for a loopback host.
const readFileSync = fs.readFileSync;
fs.readFileSync = function (path, ...rest) {
  if (String(path).endsWith("hsts-preload.json") && !fs.existsSync(path)) {
    return "{}";
  }
  return readFileSync.call(this, path, ...rest);
};

const { retrieve } = await import("@mdn/mdn-http-observatory/src/retriever/retriever.js");
const { ALL_TESTS, NUM_TESTS } = await import("@mdn/mdn-http-observatory/src/constants.js");
const { MINIMUM_SCORE_FOR_EXTRA_CREDIT } = await import("@mdn/mdn-http-observatory/src/grader/charts.js");
const { getGradeForScore, getScoreModifier } = await import("@mdn/mdn-http-observatory/src/grader/grader.js");

async function grade({ host, httpsPort, httpPort, path }) {
  // With no HTTP listener (httpPort 0), the retriever meets a refused
  // connection, which the Observatory scores as "no HTTP, no redirect
  // needed".
  const options = { httpsPort, httpPort: httpPort || 9, path: path ?? "/" };
  const r = await retrieve(host, options);
  if (!r.responses.auto) {
    return { error: "the site seems to be down" };
  }
  const { status } = r.responses.auto;
  if (status < 200 || (status >= 400 && ![401, 403].includes(status))) {
    return { error: `unexpected HTTP status ${status}`, statusCode: status };
  }

  // The rest mirrors src/scanner/index.js.
  const results = ALL_TESTS.map((test) => test(r));
  let testsPassed = 0;
  let scoreWithExtraCredit = 100;
  let uncurvedScore = 100;
  const tests = {};
  for (const result of results) {
    if (result.result) {
      result.scoreModifier = getScoreModifier(result.result);
      testsPassed += result.pass ? 1 : 0;
      scoreWithExtraCredit += result.scoreModifier;
      if (result.scoreModifier < 0) {
        uncurvedScore += result.scoreModifier;
      }
    }
    tests[result.constructor.name] = {
      pass: result.pass,
      result: result.result,
      scoreModifier: result.scoreModifier,
    };
  }
  const score = uncurvedScore >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? scoreWithExtraCredit : uncurvedScore;
  const final = getGradeForScore(score);
  return {
    grade: final.grade,
    score: final.score,
    statusCode: status,
    testsPassed,
    testsQuantity: NUM_TESTS,
    verified: r.responses.auto.verified,
    tests,
    headers: r.responses.auto.headers,
  };
}

const targets = JSON.parse(fs.readFileSync(0, "utf8"));
const out = [];
for (const target of targets) {
  out.push(await grade(target));
}
process.stdout.write(JSON.stringify(out));
