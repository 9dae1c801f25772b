// Validates every object of a multi-document YAML stream (stdin) against the Kubernetes OpenAPI schemas shipped by
// kubernetes-models (generated from the Kubernetes API's OpenAPI spec, checked with ajv), then prints the objects as a
// JSON array on stdout so that callers can check their content. Exit 1 with one line per problem on stderr.
import { parseAllDocuments } from "yaml";

const input = await new Promise((resolve, reject) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", chunk => (text += chunk));
  process.stdin.on("end", () => resolve(text));
  process.stdin.on("error", reject);
});

const problems = [];
const objects = [];
for (const doc of parseAllDocuments(input)) {
  if (doc.errors.length > 0) { problems.push(`YAML: ${doc.errors[0].message}`); continue; }
  const object = doc.toJS();
  if (object === null || object === undefined) continue;
  const name = `${object.kind ?? "?"}/${object.metadata?.name ?? "?"}`;
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== "string" || typeof kind !== "string") { problems.push(`${name}: apiVersion and kind are required`); continue; }
  // Core objects ("v1") live at kubernetes-models/v1/Kind, the others at kubernetes-models/group/version/Kind.
  const modulePath = `kubernetes-models/${apiVersion}/${kind}`;
  let model;
  try {
    model = (await import(modulePath))[kind];
  } catch {
    problems.push(`${name}: no schema for ${apiVersion} ${kind} (an unknown or removed API)`);
    continue;
  }
  try {
    new model(object).validate();
  } catch (e) {
    problems.push(`${name}: ${e.message}`);
  }
  objects.push(object);
}
for (const p of problems) console.error(p);
process.stdout.write(JSON.stringify(objects));
process.exit(problems.length > 0 ? 1 : 0);
