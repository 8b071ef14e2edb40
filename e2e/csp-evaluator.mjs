// Evaluates Content-Security-Policy strings with Google's CSP Evaluator
// (npm csp_evaluator), as csp-evaluator.withgoogle.com does: the default
// security checks plus the strict-CSP checks.
//
// Input (stdin): a JSON object {"name": "policy string", ...}.
// Output (stdout): {"name": [{"severity": 10, "severityName": "HIGH",
// "directive": "...", "value": "...", "type": 105, "description": "..."}]}.
// Driven by graders_test.go.
import { readFileSync } from "node:fs";
import { CspEvaluator, DEFAULT_CHECKS, STRICTCSP_CHECKS } from "csp_evaluator/dist/evaluator.js";
import { CspParser } from "csp_evaluator/dist/parser.js";
import { Version } from "csp_evaluator/dist/csp.js";
import { Severity } from "csp_evaluator/dist/finding.js";

const input = JSON.parse(readFileSync(0, "utf8"));
const out = {};
for (const [name, policy] of Object.entries(input)) {
  const parsed = new CspParser(policy).csp;
  const findings = new CspEvaluator(parsed, Version.CSP3).evaluate(
    undefined,
    [...DEFAULT_CHECKS, ...STRICTCSP_CHECKS],
  );
  out[name] = findings.map((f) => ({
    severity: f.severity,
    severityName: Severity[f.severity],
    directive: f.directive,
    value: f.value ?? "",
    type: f.type,
    description: f.description,
  }));
}
process.stdout.write(JSON.stringify(out));
