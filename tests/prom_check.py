#!/usr/bin/python3
# A strict reader of Prometheus' text exposition format (0.0.4), as
# node_exporter's textfile collector takes it: exits 1 naming the first line
# that breaks a rule. Rules: metric and label names as the format defines
# them; label values quoted, with only \\ \" \n as escapes; HELP and TYPE at
# most once per family and before its samples; a family's samples together;
# no series twice; counters named *_total; values that are numbers.
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}
VALUE = re.compile(r'^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?Inf|NaN)$')


def fail(n, line, why):
    print(f'line {n}: {why}: {line!r}', file=sys.stderr)
    sys.exit(1)


def labels(n, line, s):
    """Parses '{a="x",b="y"}' from the start of s; returns (dict, rest)."""
    out, i = {}, 1
    while True:
        if s[i] == '}':
            return out, s[i + 1:]
        m = re.match(LABEL, s[i:])
        if not m:
            fail(n, line, 'bad label name')
        name = m.group(0)
        if name.startswith('__'):
            fail(n, line, 'label names starting with __ are reserved')
        i += len(name)
        if s[i:i + 2] != '="':
            fail(n, line, 'expected =" after a label name')
        i += 2
        val = []
        while True:
            if i >= len(s):
                fail(n, line, 'unterminated label value')
            c = s[i]
            if c == '\\':
                if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                    fail(n, line, 'bad escape in a label value')
                val.append(s[i:i + 2])
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                fail(n, line, 'newline in a label value')
            else:
                val.append(c)
                i += 1
        if name in out:
            fail(n, line, f'label {name} twice')
        out[name] = ''.join(val)
        if s[i] == ',':
            i += 1
        elif s[i] != '}':
            fail(n, line, 'expected , or } after a label value')


def enter(n, line, name, current, closed):
    """A line of family name: the family must not come back once left."""
    if name != current:
        if current:
            closed.add(current)
        if name in closed:
            fail(n, line, f'family {name} again, its lines not together')
    return name


def main(path):
    data = open(path, encoding='utf-8').read()
    if data and not data.endswith('\n'):
        fail(0, data[-40:], 'no newline at the end')
    types, helps, closed, series = {}, {}, set(), set()
    current, samples = None, 0
    for n, line in enumerate(data.split('\n')[:-1], 1):
        if line.startswith('#'):
            m = re.match(r'^# (HELP|TYPE) (' + NAME + r') (.*)$', line)
            if not m:
                if re.match(r'^# *(HELP|TYPE)', line):
                    fail(n, line, 'malformed HELP or TYPE')
                continue
            kind, name, rest = m.groups()
            current = enter(n, line, name, current, closed)
            table = helps if kind == 'HELP' else types
            if name in table:
                fail(n, line, f'{kind} of {name} twice')
            if kind == 'TYPE':
                if rest not in TYPES:
                    fail(n, line, 'unknown type')
                if (name, 'sample') in series:
                    fail(n, line, 'TYPE after samples')
                if rest == 'counter' and not name.endswith('_total'):
                    fail(n, line, 'a counter not named *_total')
            else:
                if re.search(r'\\[^\\n]', rest):
                    fail(n, line, 'bad escape in HELP')
            table[name] = rest
            continue
        if not line.strip():
            fail(n, line, 'empty line')
        m = re.match(NAME, line)
        if not m:
            fail(n, line, 'bad metric name')
        name = m.group(0)
        rest = line[len(name):]
        lab = {}
        if rest.startswith('{'):
            lab, rest = labels(n, line, rest)
        if not rest.startswith(' '):
            fail(n, line, 'expected a space before the value')
        parts = rest[1:].split(' ')
        if len(parts) not in (1, 2) or not VALUE.match(parts[0]):
            fail(n, line, 'bad value')
        if len(parts) == 2 and not re.match(r'^-?\d+$', parts[1]):
            fail(n, line, 'bad timestamp')
        current = enter(n, line, name, current, closed)
        if types.get(name) == 'counter' and float(parts[0]) < 0:
            fail(n, line, 'a negative counter')
        key = (name, tuple(sorted(lab.items())))
        if key in series:
            fail(n, line, 'the same series twice')
        series.add(key)
        series.add((name, 'sample'))
        samples += 1
    print(f'{samples} samples, {len(types)} families: valid')


if __name__ == '__main__':
    main(sys.argv[1])
