#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check Documentation/netlink/specs/gomemguard.yaml against the kernel's YNL
schema, the UAPI header and the policies of kmod/netlink.c.

Usage: ynl_check.py [--spec FILE] [--top DIR] [--ksrc DIR] CHECK
  schema  the spec validates against the kernel's genetlink-c schema, and
          ynl's own spec loader resolves every name in it
  uapi    the header the kernel's generator (ynl-gen-c.py --mode uapi)
          renders from the spec defines the same names with the same values
          as include/uapi/linux/gomemguard.h: both compiled by cc
  policy  attribute types and checks, each command's request attributes,
          do/dump and admin-perm match the policies and the op table of
          kmod/netlink.c (bounds of both sides computed by cc); the type of
          every attribute the module's builders put (nla_put_u32(skb,
          GOMEMGUARD_A_X, ...) and the like, in kmod/*.c) is the spec's
  encode  ynl's own library (no kernel needed) encodes the requests
          selftests/ynl_test.sh sends as the module expects them, and
          decodes an event message built as kmod/events.c builds one

Prints "# ..." lines saying what differs; exit status 0 when all agree.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

top = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def say(msg):
    print('# ' + msg)


def c_upper(name):
    return name.upper().replace('-', '_')


def load_family(args, schema=True):
    sys.path.insert(0, os.path.join(args.ksrc, 'tools/net/ynl'))
    from lib.nlspec import SpecFamily

    return SpecFamily(args.spec, args.schema if schema else '')


def compile_run(src, workdir, include_dirs=()):
    """Compile C source @src, run it, return its output lines."""
    c = os.path.join(workdir, 'p.c')
    exe = os.path.join(workdir, 'p')
    with open(c, 'w') as f:
        f.write(src)
    cmd = [os.environ.get('CC', 'cc'), '-std=gnu11', '-Wall', '-Werror', '-o', exe, c]
    for d in include_dirs:
        cmd[1:1] = ['-I', d]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        for line in r.stderr.splitlines()[:30]:
            say('cc: ' + line)
        return None
    return subprocess.run([exe], capture_output=True, text=True, check=True).stdout.splitlines()


PRINT_HELPERS = r'''
#include <stdio.h>
#include <stdint.h>
static void ps(const char *n, const char *v) { printf("%s=\"%s\"\n", n, v); }
static void pu(const char *n, unsigned long long v) { printf("%s=%llu\n", n, v); }
#define P(x) _Generic((x), char *: ps, const char *: ps, default: pu)(#x, (x))
'''


def header_names(header):
    """Macros GOMEMGUARD_* and enumerators of @header, by the preprocessor."""
    cc = os.environ.get('CC', 'cc')
    macros = subprocess.run([cc, '-dM', '-E', '-x', 'c', header], capture_output=True,
                            text=True, check=True).stdout
    names = set()
    for line in macros.splitlines():
        m = re.match(r'#define (GOMEMGUARD_\w+) ', line)
        if m and not m.group(1).startswith('_UAPI'):
            names.add(m.group(1))
    body = subprocess.run([cc, '-E', '-P', '-x', 'c', header], capture_output=True,
                          text=True, check=True).stdout
    for enum in re.findall(r'enum\s*\w*\s*\{(.*?)\}', body, re.S):
        for item in enum.split(','):
            m = re.match(r'\s*(\w+)', item)
            if m:
                names.add(m.group(1))
    return names


def values_with(header, names, workdir):
    src = '#include "%s"\n' % header + PRINT_HELPERS + 'int main(void)\n{\n'
    src += ''.join('\tP(%s);\n' % n for n in sorted(names)) + '\treturn 0;\n}\n'
    out = compile_run(src, workdir)
    if out is None:
        return None
    return dict(line.split('=', 1) for line in out)


def check_schema(args):
    import jsonschema

    with open(args.schema) as f:
        schema = yaml.safe_load(f)
    with open(args.spec) as f:
        spec = yaml.safe_load(f)
    try:
        jsonschema.validate(spec, schema)
    except jsonschema.ValidationError as e:
        say('schema: %s at %s' % (e.message, '/'.join(str(p) for p in e.absolute_path)))
        return False
    fam = load_family(args)
    ok = True
    main = fam.attr_sets[spec['attribute-sets'][0]['name']]
    for aset in fam.attr_sets.values():
        for attr in aset.attrs.values():
            if 'enum' in attr.yaml and attr.yaml['enum'] not in fam.consts:
                say('%s: no enum %s' % (attr.name, attr.yaml['enum']))
                ok = False
            nest = attr.yaml.get('nested-attributes')
            if nest and nest not in fam.attr_sets:
                say('%s: no attribute set %s' % (attr.name, nest))
                ok = False
            for k, v in attr.yaml.get('checks', {}).items():
                if isinstance(v, str) and v not in fam.consts:
                    say('%s: check %s names no constant: %s' % (attr.name, k, v))
                    ok = False
    for op in fam.msgs.values():
        lists = []
        for mode in ('do', 'dump'):
            for part in ('request', 'reply'):
                lists.append(op.yaml.get(mode, {}).get(part, {}).get('attributes', []))
        lists.append(op.yaml.get('event', {}).get('attributes', []))
        for names in lists:
            for n in names:
                if n not in main.attrs:
                    say('%s: no attribute %s' % (op.name, n))
                    ok = False
    return ok


def generate_uapi(args, workdir):
    """The header ynl-gen-c.py renders from the spec, in a scratch tree
    laid out as the generator expects (schema beside specs/, MAINTAINERS
    at the root)."""
    doc = os.path.join(workdir, 'Documentation/netlink')
    os.makedirs(os.path.join(doc, 'specs'))
    open(os.path.join(workdir, 'MAINTAINERS'), 'w').close()
    spec = os.path.join(doc, 'specs', os.path.basename(args.spec))
    shutil.copy(args.spec, spec)
    shutil.copy(args.schema, doc)
    out = os.path.join(workdir, 'generated.h')
    r = subprocess.run([sys.executable, os.path.join(args.ksrc, 'tools/net/ynl/ynl-gen-c.py'),
                        '--mode', 'uapi', '--header', '--spec', spec, '-o', out],
                       capture_output=True, text=True, timeout=120)
    if r.returncode:
        for line in (r.stdout + r.stderr).splitlines()[-15:]:
            say('ynl-gen-c: ' + line)
        return None
    return out


def check_uapi(args):
    with tempfile.TemporaryDirectory() as work:
        gen = generate_uapi(args, work)
        if gen is None:
            return False
        ours = header_names(args.header)
        theirs = header_names(gen)
        ok = True
        # The spec's commands start at 1: it has no name for command 0.
        for n in sorted(ours - theirs - {'GOMEMGUARD_CMD_UNSPEC'}):
            say('in the UAPI header, not in the spec: %s' % n)
            ok = False
        for n in sorted(theirs - ours):
            say('in the spec, not in the UAPI header: %s' % n)
            ok = False
        common = ours & theirs
        os.mkdir(os.path.join(work, 'a'))
        os.mkdir(os.path.join(work, 'b'))
        a = values_with(args.header, common, os.path.join(work, 'a'))
        b = values_with(gen, common, os.path.join(work, 'b'))
        if a is None or b is None:
            return False
        for n in sorted(common):
            if a[n] != b[n]:
                say('%s: UAPI header %s, spec %s' % (n, a[n], b[n]))
                ok = False
        say('%d names compared' % len(common))
        return ok


def split_top(text, sep=','):
    """Split @text at @sep outside parentheses and braces."""
    parts, depth, cur = [], 0, ''
    for ch in text:
        if ch in '({[':
            depth += 1
        elif ch in ')}]':
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur.strip())
            cur = ''
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


NLA_TYPES = {'NLA_U8': 'u8', 'NLA_U16': 'u16', 'NLA_U32': 'u32', 'NLA_U64': 'u64',
             'NLA_S32': 's32', 'NLA_S64': 's64', 'NLA_NUL_STRING': 'string',
             'NLA_STRING': 'string', 'NLA_BINARY': 'binary', 'NLA_FLAG': 'flag',
             'NLA_NESTED': 'nest'}


def parse_netlink_c(path):
    """Policies {name: {attr: (type, min_expr, max_expr)}} and the op table."""
    with open(path) as f:
        src = re.sub(r'/\*.*?\*/', '', f.read(), flags=re.S)
    src = src.replace('\\\n', ' ')
    macros = dict(re.findall(r'#define (GMG_\w+_POLICY)\s+(.*)', src))
    ranges = {}
    for name, body in re.findall(r'struct netlink_range_validation (\w+)[^=]*=\s*\{(.*?)\};',
                                 src, re.S):
        ranges[name] = dict(re.findall(r'\.(min|max)\s*=\s*([^,]+)', body))
    policies = {}
    for name, body in re.findall(r'struct nla_policy (\w+)\[[^]]*\]\s*=\s*\{(.*?)\};',
                                 src, re.S):
        for m, v in macros.items():
            body = re.sub(r'\b%s\b' % m, v, body)
        pol = {}
        for item in split_top(body):
            m = re.match(r'\[GOMEMGUARD_A_(\w+)\]\s*=\s*(.*)', item, re.S)
            if not m:
                raise Exception('policy %s: cannot read %r' % (name, item))
            attr, e = m.group(1), ' '.join(m.group(2).split())
            m = re.match(r'NLA_POLICY_(FULL_RANGE|RANGE|MAX|MIN)\((.*)\)$', e)
            if m:
                a = split_top(m.group(2))
                if m.group(1) == 'FULL_RANGE':
                    r = ranges[a[1].lstrip('&')]
                    pol[attr] = (a[0], r['min'], r['max'])
                elif m.group(1) == 'RANGE':
                    pol[attr] = (a[0], a[1], a[2])
                elif m.group(1) == 'MAX':
                    pol[attr] = (a[0], None, a[1])
                else:
                    pol[attr] = (a[0], a[1], None)
                continue
            m = re.match(r'\{(.*)\}$', e)
            if m:
                f = dict(re.findall(r'\.(type|len)\s*=\s*([^,]+)', m.group(1)))
                pol[attr] = (f['type'].strip(), None, f.get('len', '').strip() or None)
                continue
            raise Exception('policy %s: cannot read %r' % (name, e))
        policies[name] = pol
    ops = {}
    table = re.search(r'struct genl_ops \w+\[\]\s*=\s*\{(.*?)\n\};', src, re.S).group(1)
    for entry in split_top(table):
        fields = dict((k, v.strip()) for k, v in
                      re.findall(r'\.(\w+)\s*=\s*([^,]+)', entry.strip('{} \n\t')))
        cmd = fields['cmd'].replace('GOMEMGUARD_CMD_', '')
        ops[cmd] = {'policy': fields.get('policy'), 'do': 'doit' in fields,
                    'dump': 'dumpit' in fields,
                    'admin': 'GENL_ADMIN_PERM' in fields.get('flags', '')}
    return policies, ops


def kernel_defines(path):
    """The module-internal #defines the policies use (GMG_PATH_MAX...)."""
    with open(path) as f:
        return re.findall(r'^#define (GMG_\w+)\s+(\S+)\s*$', f.read(), re.M)


def check_policy(args):
    fam = load_family(args, schema=False)
    policies, ops = parse_netlink_c(os.path.join(args.top, 'kmod/netlink.c'))
    main = next(s for s in fam.attr_sets.values() if s.subset_of is None)
    ok = True

    def spec_limits(attr):
        """(min, max) of the spec's checks, as numbers, None if absent."""
        checks = attr.yaml.get('checks', {})
        kind = ('min-len', 'max-len') if attr.yaml['type'] in ('binary', 'string') \
            else ('min', 'max')
        out = []
        for k in kind:
            v = checks.get(k)
            if isinstance(v, str):
                v = fam.consts[v]['value']
            out.append(v)
        if not checks and 'enum' in attr.yaml:
            # ynl-gen-c bounds an enum attribute by its values.
            vals = [e.value for e in fam.consts[attr.yaml['enum']].entries.values()]
            out = [min(vals) or None, max(vals)]
        return tuple(out)

    # Both sides' bounds, computed by cc from the kernel's expressions.
    exprs = {}
    for pname, pol in policies.items():
        for attr, (_, lo, hi) in pol.items():
            for which, e in (('min', lo), ('max', hi)):
                if e is not None:
                    exprs['%s.%s.%s' % (pname, attr, which)] = e
    src = '#include <stdint.h>\n#include "%s"\n' % args.header
    src += 'typedef uint8_t u8;\ntypedef uint16_t u16;\ntypedef uint32_t u32;\ntypedef uint64_t u64;\n'
    # include/linux/threads.h on 64-bit machines.
    src += '#define PID_MAX_LIMIT (4 * 1024 * 1024)\n'
    for name, val in kernel_defines(os.path.join(args.top, 'kmod/gomemguard.h')):
        src += '#define %s %s\n' % (name, val)
    src += '#include <stdio.h>\nint main(void)\n{\n'
    for k, e in exprs.items():
        src += '\tprintf("%%s=%%llu\\n", "%s", (unsigned long long)(%s));\n' % (k, e)
    src += '\treturn 0;\n}\n'
    with tempfile.TemporaryDirectory() as work:
        out = compile_run(src, work)
    if out is None:
        return False
    values = dict((k, int(v)) for k, v in (line.split('=', 1) for line in out))

    seen = {}
    for pname, pol in policies.items():
        for attr, (t, lo, hi) in pol.items():
            name = attr.lower().replace('_', '-')
            if name not in main.attrs:
                say('%s: policy attribute %s not in the spec' % (pname, attr))
                ok = False
                continue
            sa = main.attrs[name]
            if NLA_TYPES.get(t) != sa.yaml['type']:
                say('%s: kernel %s, spec %s' % (name, t, sa.yaml['type']))
                ok = False
            kmin = values.get('%s.%s.min' % (pname, attr))
            kmax = values.get('%s.%s.max' % (pname, attr))
            if (kmin, kmax) != spec_limits(sa):
                say('%s: kernel bounds %s..%s, spec %s..%s' %
                    ((name, kmin, kmax) + spec_limits(sa)))
                ok = False
            seen[name] = True
    for name, sa in main.attrs.items():
        if name not in seen and 'checks' in sa.yaml:
            say('%s: spec has checks, no kernel policy takes it' % name)
            ok = False

    # What the message builders put: nla_put_u32(skb, GOMEMGUARD_A_X, ...).
    puts = {'nla_put_u8': 'u8', 'nla_put_u16': 'u16', 'nla_put_u32': 'u32',
            'nla_put_u64_64bit': 'u64', 'gmg_put_u64': 'u64', 'nla_reserve_64bit': 'u64',
            'nla_put_s64': 's64', 'nla_put_s32': 's32', 'nla_put_string': 'string',
            'nla_put': 'binary', 'nla_nest_start': 'nest'}
    built = {}
    for c in sorted(os.listdir(os.path.join(args.top, 'kmod'))):
        if not c.endswith('.c'):
            continue
        with open(os.path.join(args.top, 'kmod', c)) as f:
            text = f.read()
        for fn, attr in re.findall(r'\b(%s)\(\s*\w+,\s*GOMEMGUARD_A_(\w+)\b' %
                                   '|'.join(puts), text):
            built.setdefault(attr.lower().replace('_', '-'), set()).add((puts[fn], c))
    for name, uses in sorted(built.items()):
        if name not in main.attrs:
            say('kmod puts %s, not in the spec' % name)
            ok = False
            continue
        for t, c in sorted(uses):
            if t != main.attrs[name].yaml['type']:
                say('%s: kmod/%s puts a %s, spec says %s' %
                    (name, c, t, main.attrs[name].yaml['type']))
                ok = False
    for name, sa in main.attrs.items():
        if sa.yaml['type'] not in ('unused', 'pad') and name not in built and name not in seen:
            say('%s: neither sent nor accepted by the module' % name)
            ok = False

    spec_ops = dict((c_upper(n), op) for n, op in fam.msgs.items() if op.is_call)
    for cmd in sorted(set(spec_ops) | set(ops)):
        if cmd not in ops or cmd not in spec_ops:
            say('command %s: %s' % (cmd, 'not in the kernel' if cmd not in ops
                                    else 'not in the spec'))
            ok = False
            continue
        k, y = ops[cmd], spec_ops[cmd].yaml
        for mode in ('do', 'dump'):
            if k[mode] != (mode in y):
                say('command %s: %s in kernel %s, in spec %s' %
                    (cmd, mode, k[mode], mode in y))
                ok = False
        if k['admin'] != ('admin-perm' in y.get('flags', [])):
            say('command %s: admin-perm differs' % cmd)
            ok = False
        accepted = set(a.lower().replace('_', '-') for a in policies[k['policy']])
        do_req = set(y.get('do', {}).get('request', {}).get('attributes', []))
        dump_req = set(y.get('dump', {}).get('request', {}).get('attributes', []))
        if 'do' in y and do_req != accepted:
            say('command %s: do request %s, kernel policy %s' %
                (cmd, sorted(do_req), sorted(accepted)))
            ok = False
        if 'dump' in y and not dump_req <= accepted or \
                'do' not in y and dump_req != accepted:
            say('command %s: dump request %s, kernel policy %s' %
                (cmd, sorted(dump_req), sorted(accepted)))
            ok = False
    return ok


def offline_family(args):
    """ynl's YnlFamily without a kernel: the family ID the controller would
    give is made up, so that nothing is sent and nothing needs the module."""
    sys.path.insert(0, os.path.join(args.ksrc, 'tools/net/ynl'))
    import lib.ynl as ynl

    ynl.genl_family_name_to_id = {'gomemguard': {'id': 0x7fee, 'mcast': {}}}
    return ynl, ynl.YnlFamily(args.spec, args.schema)


def check_encode(args):
    """The requests selftests/ynl_test.sh makes encode to the attributes the
    module expects, and the replies and events it reads decode -- with ynl's
    own encoder and decoder, on messages built here."""
    import struct

    ynl, fam = offline_family(args)
    ok = True
    want = {
        'info-get': {}, 'events-subscribe': {}, 'proc-get': {'pid': 4711},
        'tag-del': {'pid': 4711},
        'tag-new': {'pid': 4711, 'soft-limit': 64 << 20, 'signal': 10, 'inherit': 0,
                    'levels': struct.pack('=3I', 50, 80, 100).hex(),
                    'limit-origin': 'gomemlimit'},
    }
    for name in fam.ops:
        if name not in want and fam.ops[name].is_call:
            want.setdefault(name, {})
    for name, vals in want.items():
        op = fam.ops[name]
        msg = fam._encode_message(op, dict(vals), [], 1234)
        nl_len, nl_type, flags, seq, _ = struct.unpack_from('=IHHII', msg)
        cmd, ver, resv = struct.unpack_from('=BBH', msg, 16)
        if (nl_len, nl_type, cmd, ver, resv) != (len(msg), 0x7fee, op.req_value, 1, 0):
            say('%s: header len %d type %#x cmd %d version %d reserved %d' %
                (name, nl_len, nl_type, cmd, ver, resv))
            ok = False
        got = {}
        for a in ynl.NlAttrs(msg[20:]):
            got[fam.attr_sets['gomemguard'].attrs_by_val[a.type].name] = a.raw
        if set(got) != set(vals):
            say('%s: encoded %s, wanted %s' % (name, sorted(got), sorted(vals)))
            ok = False
        for k, v in vals.items():
            t = fam.attr_sets['gomemguard'][k].yaml['type']
            if t in ('u8', 'u32', 'u64'):
                fmt = {'u8': '=B', 'u32': '=I', 'u64': '=Q'}[t]
                if k == 'limit-origin':
                    v = fam.consts['limit-origin'].entries[v].value
                if got.get(k) != struct.pack(fmt, v):
                    say('%s: %s encoded as %r' % (name, k, got.get(k)))
                    ok = False

    # An EXIT event as events.c builds it, a snapshot nest as oom.c does.
    def attr(name, payload, nest=False):
        a = fam.attr_sets['gomemguard'][name].value | (0x8000 if nest else 0)
        pad = b'\0' * ((4 - len(payload) % 4) % 4)
        return struct.pack('=HH', 4 + len(payload), a) + payload + pad

    u32 = lambda v: struct.pack('=I', v)
    u64 = lambda v: struct.pack('=Q', v)
    body = (attr('seq', u64(7)) + attr('event', u32(4)) + attr('time-ns', u64(99)) +
            attr('pid', u32(4711)) + attr('comm', b'sleep\0') + attr('rate', struct.pack('=q', -5)) +
            attr('levels', struct.pack('=3I', 80, 90, 100)) +
            attr('snapshot', attr('snapshot-proc', attr('pid', u32(1)) + attr('lead-ms', u64(3)), True) +
                 attr('snapshot-proc', attr('pid', u32(2)), True), True))
    ev = fam.msgs['event'].rsp_value
    msg = struct.pack('=IHHII', 20 + len(body), 0x7fee, 0, 0, 0) + struct.pack('=BBH', ev, 1, 0) + body
    for nl_msg in ynl.NlMsgs(msg):
        fam.handle_ntf(fam.nlproto.decode(fam, nl_msg, None))
    got = fam.async_msg_queue[-1] if fam.async_msg_queue else None
    expect = {'name': 'event', 'msg': {
        'seq': 7, 'event': 'exit', 'time-ns': 99, 'pid': 4711, 'comm': 'sleep', 'rate': -5,
        'levels': [80, 90, 100],
        'snapshot': {'snapshot-proc': [{'pid': 1, 'lead-ms': 3}, {'pid': 2}]}}}
    if got != expect:
        say('event decoded as %r' % got)
        ok = False
    return ok


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--top', default=top)
    p.add_argument('--spec')
    p.add_argument('--ksrc')
    p.add_argument('--header')
    p.add_argument('check', choices=['schema', 'uapi', 'policy', 'encode'])
    args = p.parse_args()
    args.spec = args.spec or os.path.join(args.top, 'Documentation/netlink/specs/gomemguard.yaml')
    args.ksrc = args.ksrc or os.path.join(args.top, 'build/ksrc')
    args.header = os.path.abspath(args.header or
                                  os.path.join(args.top, 'include/uapi/linux/gomemguard.h'))
    args.schema = os.path.join(args.ksrc, 'Documentation/netlink/genetlink-c.yaml')
    check = {'schema': check_schema, 'uapi': check_uapi, 'policy': check_policy,
             'encode': check_encode}[args.check]
    sys.exit(0 if check(args) else 1)


if __name__ == '__main__':
    main()
