"""The diagnosis library: each cause planted in a small realistic layer, named; correct code gets none."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

import gradviz as gv
from gradviz.checking.diagnosis import NO_PATTERN, Context, Finding, diagnose


def rng(seed=0):
    return np.random.default_rng(seed)


# --- the Finding type and the entry point ------------------------------------------------------

def test_a_finding_reads_as_its_sentence_and_carries_its_fields():
    f = Finding("it is 1/5 of the true gradient", cause="extra_batch_division", evidence="ratio 0.2",
                confidence=0.95)
    assert f == "it is 1/5 of the true gradient" and "1/5" in f and f"{f}".startswith("it is")
    assert (f.cause, f.evidence, f.confidence) == ("extra_batch_division", "ratio 0.2", 0.95)
    back = pickle.loads(pickle.dumps(f))
    assert back == f and back.cause == "extra_batch_division"
    assert json.loads(json.dumps(f.to_dict()))["confidence"] == 0.95


def test_agreeing_gradients_get_no_diagnosis():
    true = rng().normal(size=(4, 3))
    assert diagnose(true * (1 + 1e-7), true, Context(batch=4)) == []


def test_a_constant_factor_names_the_batch_and_keeps_the_old_keywords():
    true = rng().normal(size=(5, 3))
    [finding] = diagnose(true / 5, true, batch=5)
    assert finding.cause == "extra_batch_division" and "batch size (5) once too often" in finding
    assert "0.2" in finding.evidence
    [missing] = diagnose(true * 5, true, Context(batch=5))
    assert missing.cause == "missing_batch_division"


@pytest.mark.parametrize("factor, cause", [(-1.0, "sign_flip"), (2.0, "factor_2"), (0.5, "factor_half"),
                                           (1 / np.log(2), "log_base"), (np.log(2), "log_base")])
def test_meaningful_constants_are_named(factor, cause):
    true = rng(1).normal(size=(3, 4))
    [finding] = diagnose(true * factor, true, Context())
    assert finding.cause == cause


def test_an_unnamed_constant_is_still_reported_as_a_constant():
    true = rng(2).normal(size=6)
    [finding] = diagnose(true * 3.7, true, Context())
    assert finding.cause == "constant_factor" and "3.7" in finding


def test_per_window_and_per_channel_counts_are_named():
    true = rng(3).normal(size=(2, 3, 4, 4))
    [window] = diagnose(true * 4, true, Context(attrs={"kernel_size": 3}))
    assert window.cause == "constant_factor"  # 4 is no count here: a 3x3 window has 9
    [nine] = diagnose(true / 9, true, Context(attrs={"kernel_size": 3}))
    assert nine.cause == "extra_window_division" and "(9)" in nine
    [channel] = diagnose(true * 32, true, Context())  # N*H*W = 2*4*4
    assert channel.cause == "missing_channel_division" and "32" in channel


def test_a_square_transposed_gradient_is_named():
    true = rng(4).normal(size=(4, 4))
    [finding] = diagnose(true.T, true, Context(name="dW"))
    assert finding.cause == "transposed"


def test_a_zero_gradient_says_nothing_arrived():
    [finding] = diagnose(np.zeros(5), rng(5).normal(size=5), Context())
    assert finding.cause == "all_zero" and "nothing reached this input" in finding


def test_border_only_errors_point_at_the_padding_slice():
    true = rng(6).normal(size=(1, 2, 5, 5))
    user = true.copy()
    user[:, :, 0, :] = 0.0
    [finding] = diagnose(user, true, Context())
    assert finding.cause == "border"


def test_when_nothing_fits_it_says_so_and_where_the_largest_errors_are():
    true = rng(7).normal(size=(3, 3))
    user = true.copy()
    user[1, 2] += 4.0
    user[0, 0] -= 0.5
    [finding] = diagnose(user, true, Context())
    assert finding.cause == NO_PATTERN and finding.confidence == 0.0
    assert finding.startswith("no simple pattern: the largest errors are at [1,2]") and "2 of 9" in finding


def test_nan_in_backward_is_named():
    true = rng(8).normal(size=4)
    user = true.copy()
    user[2] = np.nan
    [finding] = diagnose(user, true, Context())
    assert finding.cause == "nonfinite" and "[2]" in finding


def test_the_report_json_lists_cause_evidence_and_confidence():
    class Dense:  # a course-style dense layer that divides by the batch twice
        def __init__(self):
            self.W = rng(9).normal(size=(3, 2))
            self.b = np.zeros(2)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            m = self.x.shape[0]
            self.dW = self.x.T @ dout / m
            self.db = dout.sum(axis=0)
            return dout @ self.W.T

    report = gv.check_layer(Dense(), rng(10).normal(size=(4, 3)))
    entry = json.loads(json.dumps(report.to_dict()))["inputs"][1]
    assert entry["name"] == "W" and entry["status"] == "FAIL"
    [diagnosis] = entry["diagnosis"]
    assert diagnosis["cause"] == "extra_batch_division" and diagnosis["confidence"] > 0.9
    assert "0.25" in diagnosis["evidence"] and "batch size (4)" in diagnosis["message"]
