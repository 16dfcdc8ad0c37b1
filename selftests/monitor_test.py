#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Checks for selftests/monitor_test.sh: a strict reader of Prometheus'
text exposition format (what node_exporter's textfile collector accepts),
and the --exec commands' files against monitor's -j output.

  monitor_test.py check PROMFILE            parse; exit 1 with the reason
  monitor_test.py value PROMFILE NAME [LABEL=VALUE...]
                                            the one matching sample's value
  monitor_test.py exec DIR JSONL            every event line of JSONL has
                                            DIR/ev.SEQ.json equal to it and
                                            DIR/env.SEQ holding its keys
"""
import json
import math
import os
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class Bad(Exception):
    pass


def parse_value(text, where):
    if text in ("NaN", "+Inf", "-Inf", "Inf"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        raise Bad(f"{where}: value {text!r} is not a number")
    return float(text)


def parse_labels(s, pos, where):
    """Labels from s[pos] == '{' to the closing brace: (dict, next pos)."""
    labels = {}
    pos += 1
    while True:
        if s[pos] == "}":
            return labels, pos + 1
        m = LABEL.match(s, pos)
        if not m:
            raise Bad(f"{where}: bad label name at column {pos + 1}")
        name, pos = m.group(0), m.end()
        if s[pos:pos + 2] != '="':
            raise Bad(f"{where}: label {name} lacks =\"")
        pos += 2
        value = []
        while s[pos] != '"':
            if s[pos] == "\\":
                esc = s[pos + 1]
                if esc not in '\\"n':
                    raise Bad(f"{where}: unknown escape \\{esc}")
                value.append("\n" if esc == "n" else esc)
                pos += 2
            elif s[pos] == "\n":
                raise Bad(f"{where}: newline in a label value")
            else:
                value.append(s[pos])
                pos += 1
        pos += 1
        if name in labels:
            raise Bad(f"{where}: label {name} given twice")
        labels[name] = "".join(value)
        if s[pos] == ",":
            pos += 1
        elif s[pos] != "}":
            raise Bad(f"{where}: expected , or }} at column {pos + 1}")


def parse(text):
    """Families {name: {"type", "help", "samples": [(labels, value)]}}."""
    if text and not text.endswith("\n"):
        raise Bad("the last line has no newline")
    families, current, seen_series = {}, None, set()
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}"
        if line.startswith("#"):
            words = line.split(" ", 3)
            if len(words) >= 3 and words[1] in ("HELP", "TYPE"):
                name = words[2]
                if not NAME.fullmatch(name):
                    raise Bad(f"{where}: bad metric name {name!r}")
                fam = families.setdefault(name, {"samples": []})
                if fam["samples"] or (current != name and fam.keys() - {"samples"}):
                    raise Bad(f"{where}: {words[1]} of {name} after its samples or apart from its family")
                key = words[1].lower()
                if key in fam:
                    raise Bad(f"{where}: second {words[1]} for {name}")
                if key == "type" and (len(words) != 4 or words[3] not in TYPES):
                    raise Bad(f"{where}: bad TYPE line")
                fam[key] = words[3] if len(words) == 4 else ""
                current = name
            continue
        if not line.strip():
            continue
        m = NAME.match(line)
        if not m:
            raise Bad(f"{where}: no metric name")
        name, pos, labels = m.group(0), m.end(), {}
        if pos < len(line) and line[pos] == "{":
            labels, pos = parse_labels(line + "\n", pos, where)
        rest = line[pos:].split(" ")
        if len(rest) != 2 or rest[0] != "":
            raise Bad(f"{where}: expected one space and a value, no timestamp")
        value = parse_value(rest[1], where)
        fam = families.get(name)
        if fam is None or "type" not in fam or "help" not in fam:
            raise Bad(f"{where}: {name} has no HELP and TYPE before it")
        if current != name:
            raise Bad(f"{where}: {name} apart from the rest of its family")
        if fam["type"] == "counter" and not name.endswith("_total"):
            raise Bad(f"{where}: counter {name} does not end in _total")
        if fam["type"] == "counter" and (value < 0 or math.isnan(value)):
            raise Bad(f"{where}: counter {name} is {value}")
        series = (name, tuple(sorted(labels.items())))
        if series in seen_series:
            raise Bad(f"{where}: {name}{labels} twice")
        seen_series.add(series)
        if not name.startswith("gomemguard_"):
            raise Bad(f"{where}: {name} lacks the gomemguard_ prefix")
        fam["samples"].append((labels, value))
    for name, fam in families.items():
        if not fam["samples"]:
            raise Bad(f"{name} has HELP/TYPE but no samples")
    return families


def value(families, name, want):
    fam = families.get(name)
    found = [v for labels, v in (fam["samples"] if fam else [])
             if all(labels.get(k) == v for k, v in want.items())]
    if len(found) != 1:
        raise Bad(f"{len(found)} samples of {name} with {want}")
    return found[0]


def env_text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ",".join(env_text(e) for e in v)
    if isinstance(v, float):
        return repr(v)
    return str(v)


def check_exec(directory, jsonl):
    events = 0
    with open(jsonl) as f:
        for line in f:
            want = json.loads(line)
            if want.get("event") in ("lost", "state"):
                continue
            events += 1
            seq = want["seq"]
            with open(os.path.join(directory, f"ev.{seq}.json")) as ev:
                text = ev.read()
            if not text.endswith("\n") or text.count("\n") != 1:
                raise Bad(f"ev.{seq}.json is not one line")
            if json.loads(text) != want:
                raise Bad(f"ev.{seq}.json differs from the -j line")
            env = {}
            with open(os.path.join(directory, f"env.{seq}")) as e:
                for var in e.read().splitlines():
                    k, _, v = var.partition("=")
                    env[k] = v
            for k, v in want.items():
                name = "GOMEMGUARD_" + k.upper()
                if v is None or isinstance(v, dict) or (
                        isinstance(v, list) and any(isinstance(x, (dict, list)) or x is None for x in v)):
                    if name in env:
                        raise Bad(f"env.{seq} has {name}, which is null or nested")
                    continue
                if name not in env:
                    raise Bad(f"env.{seq} lacks {name}")
                # Numbers are compared as numbers: 12.34 may print as such.
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    if float(env[name]) != float(v):
                        raise Bad(f"env.{seq}: {name}={env[name]}, JSON {v}")
                elif env[name] != env_text(v):
                    raise Bad(f"env.{seq}: {name}={env[name]!r}, JSON {v!r}")
            extra = set(env) - {"GOMEMGUARD_" + k.upper() for k in want}
            if extra:
                raise Bad(f"env.{seq} has variables the event lacks: {sorted(extra)}")
    files = [f for f in os.listdir(directory) if re.fullmatch(r"ev\.\d+\.json", f)]
    if len(files) != events:
        raise Bad(f"{len(files)} ev.*.json files for {events} events")
    print(f"# {events} events, each with its command's files")


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "check":
            with open(argv[2], encoding="utf-8") as f:
                parse(f.read())
        elif len(argv) >= 4 and argv[1] == "value":
            with open(argv[2], encoding="utf-8") as f:
                families = parse(f.read())
            want = dict(a.split("=", 1) for a in argv[4:])
            v = value(families, argv[3], want)
            print(int(v) if v == int(v) else v)
        elif len(argv) == 4 and argv[1] == "exec":
            check_exec(argv[2], argv[3])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (Bad, OSError, ValueError, KeyError) as e:
        print(f"monitor_test.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
