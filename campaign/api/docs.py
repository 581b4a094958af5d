"""The API's description: the OpenAPI document, and the docs page rendered
from it on the server (in the site's layout, no script from elsewhere)."""
from __future__ import annotations

from flask import jsonify, render_template

from . import bp
from .openapi import document


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document: the same for everyone."""
    response = jsonify(document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/docs")
def docs():
    """The documentation page, made from the OpenAPI document."""
    spec = document()
    response = render_template("api/docs.html", spec=spec, schemas=spec["components"]["schemas"],
                               operations=list(operations(spec)), schema_type=schema_type)
    return response, 200, {"Cache-Control": "public, max-age=300"}


def operations(spec: dict):
    """(method, path, operation, parameters resolved) for each operation, in the document's order."""
    parameters = spec["components"]["parameters"]
    responses = spec["components"]["responses"]
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            resolved = [parameters[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                        for p in operation.get("parameters", [])]
            answers = {code: responses[answer["$ref"].rsplit("/", 1)[1]] if "$ref" in answer else answer
                       for code, answer in operation["responses"].items()}
            yield method.upper(), path, operation, resolved, answers


def schema_type(schema: dict) -> str:
    """A schema in a few words: "string (date-time) or null", "array of Signature", "one of: a, b"."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "enum" in schema:
        return " | ".join(f'"{value}"' for value in schema["enum"])
    if "const" in schema:
        return str(schema["const"])
    if "oneOf" in schema:
        return " or ".join(schema_type(option) for option in schema["oneOf"])
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    words = []
    for kind in kinds:
        if kind == "array" and "items" in schema:
            words.append(f"array of {schema_type(schema['items'])}")
        elif kind == "string" and "format" in schema:
            words.append(f"string ({schema['format']})")
        else:
            words.append(kind)
    return " or ".join(words)
