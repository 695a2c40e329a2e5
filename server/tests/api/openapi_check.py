"""Checks Rampart's OpenAPI document and real exchanges against it (`openapi.rs` runs this).

stdin: {"document": <the document>, "exchanges": [{"method", "path", "status",
"request", "refused_request", "response", "content_type"}]}, where `path` is the document's path template.

1. The document is valid OpenAPI 3.1 (openapi-spec-validator).
2. Every example in it validates against the schema beside it.
3. Every exchange's request body validates against its operation's request schema, and its
   response (status, content type and body) against the response the document gives for
   that status (or its `4XX`/`5XX` class).

Prints one line per failure and exits 1 if there was any; else prints a summary.
"""

import json
import sys

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def main():
    data = json.load(sys.stdin)
    doc = data["document"]
    failures = []

    validate(doc)

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/components/responses/"):
            node = doc["components"]["responses"][node["$ref"].rsplit("/", 1)[1]]
        return node

    def check(schema, value, where):
        # The schema's `#/components/...` references resolve against this root.
        root = {"components": doc.get("components", {}), "allOf": [schema]}
        for error in Draft202012Validator(root).iter_errors(value):
            path = "/".join(str(p) for p in error.absolute_path)
            failures.append(f"{where}: {error.message} at /{path}")

    examples = 0
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            where = f"{method.upper()} {path}"
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body and "example" in body:
                examples += 1
                check(body["schema"], body["example"], f"{where} request example")
            for status, response in op.get("responses", {}).items():
                response = resolve(response)
                content = response.get("content", {}).get("application/json")
                if content and "example" in content:
                    examples += 1
                    check(content["schema"], content["example"], f"{where} {status} example")
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        if "example" in schema:
            examples += 1
            check({"$ref": f"#/components/schemas/{name}"}, schema["example"], f"schema {name} example")

    exchanges = data["exchanges"]
    for ex in exchanges:
        method, path, status = ex["method"].lower(), ex["path"], ex["status"]
        where = f"{method.upper()} {path} -> {status}"
        op = doc["paths"].get(path, {}).get(method)
        if op is None:
            failures.append(f"{where}: no such operation in the document")
            continue
        if ex.get("refused_request"):
            # A body the server refused: the document must refuse it too.
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            root = {"components": doc.get("components", {}), "allOf": [body.get("schema", {})]}
            if not list(Draft202012Validator(root).iter_errors(ex["request"])):
                failures.append(f"{where}: the document accepts the body the server refused")
        elif ex.get("request") is not None:
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                failures.append(f"{where}: a JSON body was sent, the document takes none")
            else:
                check(body["schema"], ex["request"], f"{where} request")
        responses = op.get("responses", {})
        response = responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default")
        if response is None:
            failures.append(f"{where}: status not in the document ({sorted(responses)})")
            continue
        response = resolve(response)
        content = response.get("content", {})
        content_type = (ex.get("content_type") or "").split(";")[0].strip()
        if not content:
            if ex.get("response") is not None:
                failures.append(f"{where}: a JSON body came back, the document has none")
            continue
        if content_type and not any(content_type == t.split(";")[0].strip() for t in content):
            failures.append(f"{where}: {content_type} is not among {sorted(content)}")
            continue
        if "application/json" in content and ex.get("response") is not None:
            check(content["application/json"].get("schema", {}), ex["response"], f"{where} response")

    for failure in failures:
        print(failure)
    if failures:
        sys.exit(1)
    print(f"valid OpenAPI {doc['openapi']}; {examples} examples and {len(exchanges)} exchanges match")


main()
