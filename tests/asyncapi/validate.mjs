// Validates an AsyncAPI document with the official parser (@asyncapi/parser, pinned in
// package-lock.json): the spec's JSON Schema, $ref resolution and the parser's own rules.
//
//   node tests/asyncapi/validate.mjs schemas/asyncapi.json
//
// Prints every diagnostic, one a line ("<severity> <code> at <path>: <message>"), then a verdict
// line. Exit status: 0 when no diagnostic has error severity, 1 otherwise, 2 on bad usage.
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";

const require = createRequire(import.meta.url);
const { Parser, DiagnosticSeverity } = require("@asyncapi/parser");

const SEVERITY = {
  [DiagnosticSeverity.Error]: "error",
  [DiagnosticSeverity.Warning]: "warning",
  [DiagnosticSeverity.Information]: "info",
  [DiagnosticSeverity.Hint]: "hint",
};

const args = process.argv.slice(2);
if (args.length !== 1 || args[0].startsWith("-")) {
  console.error("usage: node validate.mjs ASYNCAPI_FILE");
  process.exit(2);
}

let text;
try {
  text = await readFile(args[0], "utf8");
} catch (error) {
  console.error(`cannot read ${args[0]}: ${error.message}`);
  process.exit(2);
}

const parser = new Parser();
const { document, diagnostics } = await parser.parse(text, { source: args[0] });

const counts = { error: 0, warning: 0, info: 0, hint: 0 };
for (const diagnostic of diagnostics) {
  const severity = SEVERITY[diagnostic.severity] ?? `severity-${diagnostic.severity}`;
  counts[severity] = (counts[severity] ?? 0) + 1;
  const path = diagnostic.path.length ? `/${diagnostic.path.join("/")}` : "/";
  console.log(`${severity} ${diagnostic.code} at ${path}: ${diagnostic.message}`);
}

const valid = document !== undefined && counts.error === 0;
console.log(
  `${valid ? "valid" : "invalid"}: ${counts.error} error(s), ${counts.warning} warning(s), ` +
    `${counts.info} info, ${counts.hint} hint(s) in ${args[0]}`,
);
process.exit(valid ? 0 : 1);
