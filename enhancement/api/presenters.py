"""The OpenAPI document shaped for the reference page."""

from __future__ import annotations

from dataclasses import dataclass, field

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Parameter:
    name: str
    where: str
    required: bool
    type: str
    description: str


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Parameter] = field(default_factory=list)
    body: list[Parameter] = field(default_factory=list)
    responses: list[tuple[str, str]] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"{self.method}-{self.path}".replace("/", "-").replace("{", "").replace("}", "")


def _type_of(schema: dict, components: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_type_of(s, components) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_type_of(schema.get('items', {}), components)}"
    return schema.get("format") or schema.get("type", "any")


def _body_fields(operation: dict, components: dict) -> list[Parameter]:
    content = operation.get("requestBody", {}).get("content", {})
    for media, spec in content.items():
        schema = spec.get("schema", {})
        if "$ref" in schema:
            schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        required = set(schema.get("required", []))
        return [
            Parameter(
                name=name,
                where=media,
                required=name in required,
                type=_type_of(prop, components),
                description=prop.get("description", ""),
            )
            for name, prop in schema.get("properties", {}).items()
        ]
    return []


def reference_operations(schema: dict) -> list[Operation]:
    components = schema.get("components", {}).get("schemas", {})
    operations = []
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method not in item:
                continue
            spec = item[method]
            operations.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=spec.get("summary", ""),
                    description=spec.get("description", ""),
                    parameters=[
                        Parameter(
                            name=p["name"],
                            where=p["in"],
                            required=p.get("required", False),
                            type=_type_of(p.get("schema", {}), components),
                            description=p.get("description", "")
                            or p.get("schema", {}).get("description", ""),
                        )
                        for p in spec.get("parameters", [])
                    ],
                    body=_body_fields(spec, components),
                    responses=[
                        (code, response.get("description", ""))
                        for code, response in spec.get("responses", {}).items()
                    ],
                )
            )
    return operations


# The kinds of problem the API answers: each problem's `type` links its line on the reference
# page (`/api/v1/docs/#problem-<kind>`).
PROBLEMS = [
    ("unauthorized", 401, "No key, an unknown one or a revoked one."),
    ("no-api-access", 403, "The key is live but its owner's plan no longer includes the API."),
    ("rate-limited", 429, "Too many calls (or uploads, or orders) this minute: see Retry-After."),
    ("invalid", 422, "The request does not match the document (a field, a header, a query)."),
    ("not-found", 404, "No such image or job in your account."),
    ("image-refused", 422, "The upload is not an image we accept (the message says why)."),
    ("not-stored", 503, "The upload could not be stored just now: nothing was kept, try again."),
    ("image-busy", 409, "The image has an enhancement under way: wait for it or cancel it."),
    ("insufficient-tokens", 402, "The tier costs more tokens than the balance holds."),
    ("idempotency-key-reused", 422, "This Idempotency-Key already ordered something else."),
    ("cannot-order", 422, "The order was refused (the message says why)."),
    ("invalid-tier", 422, "No such tier on sale."),
    ("bad-idempotency-key", 422, "The Idempotency-Key is not 1 to 255 printable ASCII characters."),
    ("bad-cursor", 400, "The cursor is not one we gave (or its image is gone)."),
    ("bad-download", 400, "Unknown format or quality."),
    ("not-cancellable", 409, "The job is running or finished."),
    ("no-result", 409, "The job has no result (yet)."),
]
