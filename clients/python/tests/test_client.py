"""The Python client against a running Sweep API: SWEEP_URL (required), SWEEP_TOKEN and SWEEP_CA when it is secured.
./test.sh runs this against a real silo process (tests/Cluster.Tests/ApiTests.cs)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sweep_client import SweepClient, SweepError  # noqa: E402

URL = os.environ.get("SWEEP_URL")
TOKEN = os.environ.get("SWEEP_TOKEN") or None
CA = os.environ.get("SWEEP_CA") or None


def small_spec(name, rates, epochs=1):
    return {"name": name, "training": {"epochs": epochs, "trainLimit": 200},
            "search": {"strategy": "grid", "space": {"regularizer": ["l1", "l2"], "pruneRate": rates}}}


@unittest.skipUnless(URL, "SWEEP_URL is not set")
class ClientTests(unittest.TestCase):
    def setUp(self):
        self.client = SweepClient(URL, token=TOKEN, ca_file=CA, timeout=60)

    def test_submit_watch_front_trials_dataframe(self):
        sweep_id = self.client.submit(small_spec("py-client", [0.5, 0.9]))
        events = list(self.client.watch(sweep_id, timeout=120))
        names = [e for e, _ in events]
        self.assertEqual("end", names[-1])
        results = [d for e, d in events if e == "result"]
        self.assertEqual(4, len(results))
        self.assertEqual(4, len({r["trialId"] for r in results}))
        self.assertEqual(list(range(4)), sorted(r["position"] for r in results))
        statuses = [d for e, d in events if e == "status"]
        self.assertEqual("completed", statuses[-1]["state"])
        self.assertEqual(4, statuses[-1]["completed"])

        front = self.client.front(sweep_id)
        self.assertEqual(["accuracy", "weightSparsity"], front["objectives"])
        ids = {r["trialId"] for r in results}
        self.assertTrue(front["points"])
        self.assertTrue({p["trialId"] for p in front["points"]} <= ids)
        self.assertGreater(front["hypervolume"], 0)

        trials = self.client.trials(sweep_id)
        self.assertEqual(ids, {t["trialId"] for t in trials})
        self.assertTrue(all(len(t["epochs"]) == 1 and t["layers"] for t in trials))
        first = self.client.trials_page(sweep_id, 0, 3)
        rest = self.client.trials_page(sweep_id, 3, 3)
        self.assertEqual((4, 3, 1), (first["total"], len(first["trials"]), len(rest["trials"])))
        self.assertEqual([t["trialId"] for t in trials], [t["trialId"] for t in first["trials"] + rest["trials"]])

        one = self.client.trial(sweep_id, trials[2]["trialId"])
        self.assertEqual(trials[2], one)
        with self.assertRaises(SweepError) as missing:
            self.client.trial(sweep_id, "t-no-such-trial")
        self.assertEqual(404, missing.exception.status)

        try:
            import pandas  # noqa: F401
        except ImportError:
            with self.assertRaises(ImportError) as e:
                self.client.to_dataframe(sweep_id)
            self.assertIn("pandas", str(e.exception))
        else:
            df = self.client.to_dataframe(sweep_id)
            self.assertEqual(4, len(df))
            self.assertIn("params.pruneRate", df.columns)
        self.assertIn(sweep_id, [s["sweepId"] for s in self.client.sweeps()])

    def test_a_bad_spec_is_a_400_naming_the_field(self):
        with self.assertRaises(SweepError) as e:
            self.client.submit({"name": "bad", "model": "no-such-model"})
        self.assertEqual(400, e.exception.status)
        self.assertEqual("model", e.exception.field)
        self.assertTrue(e.exception.message.startswith("sweep: model: "))

    def test_cancel_stops_a_sweep(self):
        sweep_id = self.client.submit(small_spec("py-cancel", [round(0.3 + 0.01 * i, 2) for i in range(30)], epochs=3))
        status = self.client.cancel(sweep_id)
        self.assertEqual("cancelled", status["state"])
        events = list(self.client.watch(sweep_id, timeout=120))
        final = [d for e, d in events if e == "status"][-1]
        self.assertEqual("cancelled", final["state"])
        self.assertLess(final["completed"], 60)

    @unittest.skipUnless(TOKEN, "the API asks for no token")
    def test_no_token_is_a_401(self):
        anonymous = SweepClient(URL, token="", ca_file=CA)
        with self.assertRaises(SweepError) as e:
            anonymous.sweeps()
        self.assertEqual(401, e.exception.status)


if __name__ == "__main__":
    unittest.main()
