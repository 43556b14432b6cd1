"""mk/greedy.mk's dropout classifiers, dry run (`make -n`): which runs they make, with which arguments."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def dry_run(tmp_path, target: str, *variables: str) -> list[str]:
    out = subprocess.run(["make", "-n", "--no-print-directory", target, f"LOGS={tmp_path}/logs",
                          f"REPORT_DIR={tmp_path}/reports", *variables],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def fits(lines: list[str], config: str) -> list[str]:
    return [line for line in lines if " fit " in line and f"configs/{config}.yaml" in line]


def test_pretrained_classifier_fine_tunes_the_sdae_encoder(tmp_path):
    lines = dry_run(tmp_path, "repro-classifier-pretrained")
    sdae, classifier = fits(lines, "sdae_1024x3"), fits(lines, "classifier_pretrained")
    assert len(sdae) == 1 and "--seed_everything 0 " in sdae[0]  # the encoder: one seed, made first
    assert lines.index(sdae[0]) < lines.index(classifier[0])
    assert "encoder_ckpt" not in sdae[0] and "--optimizer.lr" not in sdae[0]  # `private`: not inherited
    ckpt = f"--model.init_args.encoder_ckpt {tmp_path}/logs/sdae_1024x3/repro_seed0/checkpoints/last.ckpt"
    assert [f"--seed_everything {s} " in line and ckpt in line for s, line in zip((0, 1, 2), classifier)] == [True] * 3
    assert all(line.rstrip().endswith("--optimizer.lr 0.3") for line in classifier)  # the pretrained net's rate
    assert len(classifier) == 3 and not any("--trainer.max_epochs" in line for line in classifier)  # the config's budget


def test_the_paper_recipe_is_one_variable(tmp_path):
    paper = "--trainer.max_epochs 3000 --lr_scheduler.init_args.gamma 0.998 --lr_scheduler.init_args.ramp_epochs 500"
    for target, config in (("repro-classifier-dropout", "classifier_dropout"),
                           ("repro-classifier-pretrained", "classifier_pretrained")):
        runs = fits(dry_run(tmp_path, target, "DROPOUT_RECIPE=paper"), config)
        assert len(runs) == 3 and all(paper in line for line in runs), runs
    sdae = fits(dry_run(tmp_path, "repro-classifier-pretrained", "DROPOUT_RECIPE=paper"), "sdae_1024x3")
    assert "3000" not in sdae[0]
