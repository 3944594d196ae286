// Validates Kubernetes objects (a JSON array on stdin) against the Kubernetes OpenAPI schema that the npm
// package kubernetes-models carries (required fields, types, formats), offline. Usage:
//   node validate-objects.mjs <folder holding kubernetes-models> < objects.json
// Prints one line per object ("ok Kind/name" or "invalid Kind/name: <errors>"); exit code 1 when any is invalid.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modelsRoot = process.argv[2];
const objects = JSON.parse(readFileSync(0, "utf8"));
let invalid = 0;
for (const object of objects) {
  const label = `${object.kind}/${object.metadata?.name}`;
  // "apps/v1" -> apps/v1/Deployment.js; the core group "v1" -> v1/Service.js.
  const modulePath = join(modelsRoot, ...object.apiVersion.split("/"), `${object.kind}.js`);
  let Model;
  try {
    Model = (await import(pathToFileURL(modulePath).href))[object.kind];
  } catch {
    console.log(`invalid ${label}: no schema for ${object.apiVersion} ${object.kind}`);
    invalid++;
    continue;
  }
  try {
    new Model(object).validate();
    console.log(`ok ${label}`);
  } catch (error) {
    const details = (error.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
    console.log(`invalid ${label}: ${details.length > 0 ? details.join("; ") : error.message}`);
    invalid++;
  }
}
process.exit(invalid > 0 ? 1 : 0);
