// Checks a CSDL XML document with the OASIS OData TC's own tools, independent of the emulator:
// the reference converter `odata-csdl` (strict: an unexpected element or attribute, a missing
// attribute or a name clash is an error) turns it into CSDL JSON, which must then validate
// against the TC's JSON Schema for CSDL JSON (with ajv). Reads the XML on stdin, prints the
// CSDL JSON on stdout; on a problem prints it on stderr and exits 1. The packages are found
// through NODE_PATH (`scripts/odata-csdl install` prints it).
"use strict";
const { xml2json } = require("odata-csdl");
const Ajv = require("ajv");
const schema = require("odata-csdl/schemas/csdl.schema.json");

const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const xml = Buffer.concat(chunks).toString("utf8");
  let csdl;
  try {
    csdl = xml2json(xml, { strict: true });
  } catch (e) {
    console.error(`CSDL XML refused by odata-csdl: ${e.message}`);
    process.exit(1);
  }
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  if (!validate(csdl)) {
    console.error("CSDL JSON does not match the OASIS schema:");
    for (const err of validate.errors) console.error(`  ${err.instancePath} ${err.message}`);
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(csdl));
});
