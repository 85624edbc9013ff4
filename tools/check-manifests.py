#!/usr/bin/env python3
"""Checks Kubernetes manifests against the API types of the official Python client's models
(PyPI `kubernetes`, installed by tools/setup.sh --test into its virtualenv), strictly: a field the
type does not have (a typo such as `hostPid`), a value of the wrong type, a missing required field
or a value outside an enum is an error. Prints one line per error; exits 1 if any, 0 otherwise.

usage: check-manifests.py FILE.yaml...
"""
import sys

import yaml
from kubernetes import client
from kubernetes.client import models

SCALARS = {"str": str, "bool": bool, "float": (int, float)}


def model_name(api_version, kind):
    """apps/v1 DaemonSet -> V1DaemonSet; v1 Service -> V1Service."""
    version = api_version.split("/")[-1]
    return version[0].upper() + version[1:] + kind


def check(value, type_name, path, errors):
    if value is None:
        return
    # The client writes list[X] and dict(str, X), or List[X] and Dict[str, X] in newer releases.
    if type_name.startswith("List["):
        type_name = "list[" + type_name[5:]
    elif type_name.startswith("Dict["):
        type_name = "dict(" + type_name[5:-1] + ")"
    if type_name.startswith("list["):
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check(item, type_name[5:-1], f"{path}[{i}]", errors)
    elif type_name.startswith("dict("):
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        inner = type_name[5:-1].split(", ", 1)[1]
        for key, item in value.items():
            check(item, inner, f"{path}.{key}", errors)
    elif type_name == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{path}: expected an integer, got {value!r}")
    elif type_name in SCALARS:
        if not isinstance(value, SCALARS[type_name]):
            errors.append(f"{path}: expected {type_name}, got {value!r}")
    elif type_name in ("object", "datetime", "date"):
        return
    else:
        cls = getattr(models, type_name, None)
        if cls is None:
            errors.append(f"{path}: unknown type {type_name}")
            return
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a {type_name} object, got {value!r}")
            return
        fields = {json_name: attribute for attribute, json_name in cls.attribute_map.items()}
        for key, item in value.items():
            if key not in fields:
                errors.append(f"{path}.{key}: {type_name} has no field '{key}'")
                continue
            check(item, cls.openapi_types[fields[key]], f"{path}.{key}", errors)


def main(paths):
    errors = []
    api = client.ApiClient()
    for path in paths:
        with open(path) as f:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
        for n, document in enumerate(documents):
            where = f"{path}#{n} {document.get('kind', '?')}/{document.get('metadata', {}).get('name', '?')}"
            name = model_name(document.get("apiVersion", ""), document.get("kind", ""))
            before = len(errors)
            check(document, name, where, errors)
            if len(errors) == before:
                # The models' own checks: required fields and enums.
                try:
                    api._ApiClient__deserialize(document, name)
                except (ValueError, TypeError) as e:
                    errors.append(f"{where}: {e}")
    for error in errors:
        print(error)
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        sys.exit(64)
    sys.exit(main(sys.argv[1:]))
