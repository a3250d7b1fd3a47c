"""What can be checked of the Bicep files without a Bicep compiler (none installs here):
brackets balance, modules exist and get exactly the parameters they declare, and no
parameter or variable is left unused (the Bicep linter's no-unused-params/vars rules).
It is not a compile: resource types, API versions and property names stay unchecked."""

import re
import sys
import unittest
from pathlib import Path

BICEP = Path(__file__).resolve().parents[1] / "bicep"
PAIRS = {")": "(", "]": "[", "}": "{"}


def code_only(text):
    """The text with comments and string literals blanked, keeping `${...}` interpolations
    (they are code, and may hold strings of their own)."""
    out, i, stack = [], 0, ["code"]  # stack: "code", "string", or "interp"
    depth = []  # brace depth inside each open interpolation
    while i < len(text):
        mode, c = stack[-1], text[i]
        if mode == "string":
            if text.startswith("\\", i):
                i += 2
            elif text.startswith("${", i):
                stack.append("interp")
                depth.append(0)
                i += 2
                out.append(" ")
            elif c == "'":
                stack.pop()
                i += 1
                out.append("'")
            else:
                out.append("\n" if c == "\n" else " ")
                i += 1
            continue
        if text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        elif c == "'":
            stack.append("string")
            out.append("'")
            i += 1
        elif mode == "interp" and c == "}" and depth[-1] == 0:
            stack.pop()
            depth.pop()
            out.append(" ")
            i += 1
        else:
            if mode == "interp" and c in "{}":
                depth[-1] += 1 if c == "{" else -1
            out.append(c)
            i += 1
    return "".join(out)


def declared(code, keyword):
    return re.findall(rf"^\s*{keyword}\s+(\w+)\b", code, flags=re.M)


def params_without_default(code):
    found = []
    for line in code.splitlines():
        match = re.match(r"\s*param\s+(\w+)\s+\w+\s*$", line)
        if match:
            found.append(match.group(1))
    return found


class BicepShape(unittest.TestCase):
    def setUp(self):
        self.files = {p.name: p.read_text(encoding="utf-8") for p in sorted(BICEP.glob("*.bicep"))}
        self.assertIn("main.bicep", self.files)

    def test_brackets_balance(self):
        for name, text in self.files.items():
            stack = []
            for number, line in enumerate(code_only(text).splitlines(), 1):
                for c in line:
                    if c in "([{":
                        stack.append((c, number))
                    elif c in ")]}":
                        self.assertTrue(stack, f"{name}:{number}: unmatched {c}")
                        opener, _ = stack.pop()
                        self.assertEqual(opener, PAIRS[c], f"{name}:{number}: {c} closes {opener}")
            self.assertFalse(stack, f"{name}: unclosed {stack}")

    def test_modules_get_the_parameters_they_declare(self):
        for name, text in self.files.items():
            for match in re.finditer(r"^module\s+(\w+)\s+'([^']+)'", text, flags=re.M):
                module, path = match.groups()
                self.assertIn(path, self.files, f"{name}: module {module} uses missing {path}")
                target = code_only(self.files[path])
                body = text[match.end():]
                params = body[body.index("params: {"):]
                params = params[: params.index("\n  }\n")]
                passed = set(re.findall(r"^\s{4}(\w+):", params, flags=re.M))
                wanted = set(declared(target, "param"))
                self.assertFalse(passed - wanted, f"{module}: {path} has no params {passed - wanted}")
                missing = set(params_without_default(target)) - passed
                self.assertFalse(missing, f"{module}: required params of {path} not passed: {missing}")

    def test_no_unused_params_or_vars(self):
        for name, text in self.files.items():
            code = code_only(text)
            for keyword in ("param", "var"):
                for symbol in declared(code, keyword):
                    uses = len(re.findall(rf"(?<![\w.]){symbol}\b", code))
                    self.assertGreater(uses, 1, f"{name}: {keyword} {symbol} is never used")


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
