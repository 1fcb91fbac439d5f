"""Grading harness that runs inside the learner's kernel.

The grader does not import this module in the kernel (the learner's code ran first and could have
replaced an imported module); it sends this file's source and executes it in a fresh module, after
the learner's notebook has finished. Results travel back as one display_data output per hidden
check, tagged with a per-run nonce, and are judged in the grader process.
"""

import json
import sys
import types

MIME = "application/x-translearn-grading"


def _reset_hooks(ip):
    """Undo hooks a notebook may have installed to rewrite or watch the grader's cells."""
    for event in list(ip.events.callbacks):
        ip.events.callbacks[event] = []
    try:
        ip.ast_transformers = []
        ip.input_transformers_post = []
    except Exception:
        pass
    sys.settrace(None)
    sys.setprofile(None)


def _fresh_library():
    """Forget the learner's (possibly monkeypatched) copies of the grading helpers."""
    for name in [n for n in sys.modules if n == "translearn_lib.grading" or n.startswith("translearn_lib.grading.")]:
        del sys.modules[name]


def setup(ip, grader_source, grader_path, module_name):
    """Load the grader file in a fresh module and return the harness bound to the learner's globals."""
    _reset_hooks(ip)
    _fresh_library()
    from translearn_lib.grading.checks import to_jsonable

    module = types.ModuleType(module_name)
    module.__file__ = grader_path
    sys.modules[module_name] = module
    exec(compile(grader_source, grader_path, "exec"), module.__dict__)
    return Harness(module, ip.user_ns, ip.display_pub.publish, to_jsonable)


class Harness:
    """Runs one question's probe against the learner's namespace and publishes the result."""

    def __init__(self, module, user_ns, publish, to_jsonable):
        self._questions = {q.id: q for q in module.QUESTIONS}
        self._user_ns = user_ns
        self._publish = publish
        self._to_jsonable = to_jsonable
        self._dumps = json.dumps

    def run(self, qid, seed, override, nonce):
        ns = self._user_ns
        payload = {"nonce": nonce, "qid": qid}
        try:
            if override is not None:
                ns = dict(ns)
                exec(compile(override, "<planted wrong answer>", "exec"), ns)
            data = self._questions[qid].probe(ns, seed)
            payload["status"] = "ok"
            payload["data"] = self._to_jsonable(data)
        except AssertionError as err:
            payload.update(status="fail", message=str(err) or "assertion failed")
        except BaseException as err:  # noqa: BLE001 - a learner's function may raise anything
            payload.update(status="error", message=f"{type(err).__name__}: {err}")
        try:
            text = self._dumps(payload)
        except (TypeError, ValueError) as err:
            text = self._dumps({"nonce": nonce, "qid": qid, "status": "error",
                                "message": f"the probe's result could not be sent back: {err}"})
        self._publish(data={MIME: text}, metadata={})
