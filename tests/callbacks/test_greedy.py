"""GreedyLayerwisePretraining: stage schedule, frozen layers, cache == no cache, checkpoint/resume."""

from __future__ import annotations

from functools import partial

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lightning_ae import losses
from lightning_ae.callbacks import GreedyLayerwisePretraining
from lightning_ae.data import MNISTDataModule
from lightning_ae.errors import ConfigError
from lightning_ae.models import Autoencoder
from lightning_ae.networks import TiedDecoder

# encoder.0 / decoder.2 form stage 1's shallow autoencoder (784-32-784), encoder.2 / decoder.0 stage 2's (32-8-32)
STAGE1 = ("encoder.0.weight", "encoder.0.bias", "decoder.2.weight", "decoder.2.bias")
STAGE2 = ("encoder.2.weight", "encoder.2.bias", "decoder.0.weight", "decoder.0.bias")


def small_ae(lr: float = 0.01, **kwargs) -> Autoencoder:
    torch.manual_seed(0)
    args = dict(hidden_dims=[32], latent_dim=8, activation="elu", code_activation="elu",
                output_activation="linear")
    return Autoencoder(**{**args, **kwargs}, optimizer=partial(torch.optim.Adam, lr=lr, weight_decay=0.01))


@pytest.fixture
def datamodule(mnist_dir):
    dm = MNISTDataModule(data_dir=str(mnist_dir), train_subset=300, batch_size=100, eval_batch_size=500)
    dm.setup()
    return dm


def trainer(tmp_path, callbacks, max_epochs, **kwargs) -> L.Trainer:
    args = dict(max_epochs=max_epochs, callbacks=callbacks, logger=False, enable_checkpointing=False,
                enable_progress_bar=False, enable_model_summary=False, limit_val_batches=1,
                num_sanity_val_steps=0, default_root_dir=tmp_path, accelerator="cpu", devices=1)
    return L.Trainer(**{**args, **kwargs})


class Snapshots(L.Callback):
    """Parameters and which of them require grad, at the start and at the end of every epoch."""

    def __init__(self) -> None:
        self.start, self.end, self.trainable, self.grads_none, self.lr, self.optimizer = {}, {}, {}, {}, {}, {}

    def on_train_epoch_start(self, trainer, pl_module):
        self.lr[trainer.current_epoch] = trainer.optimizers[0].param_groups[0]["lr"]
        self.optimizer[trainer.current_epoch] = trainer.optimizers[0]
        self.start[trainer.current_epoch] = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}
        self.trainable[trainer.current_epoch] = {k for k, p in pl_module.named_parameters() if p.requires_grad}

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self.grads_none[trainer.current_epoch] = {k for k, p in pl_module.named_parameters() if p.grad is None}

    def on_train_epoch_end(self, trainer, pl_module):
        self.end[trainer.current_epoch] = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}


def changed(before: dict, after: dict) -> set[str]:
    return {k for k in before if k.endswith(("weight", "bias")) and not torch.equal(before[k], after[k])}


def test_stage_of_each_epoch_follows_the_schedule():
    cb = GreedyLayerwisePretraining([1, 2, 3])
    assert [cb.stage_at(e) for e in range(8)] == [0, 1, 1, 2, 2, 2, 3, 3]


@pytest.mark.parametrize("max_epochs, warns", [(2, True), (3, False), (-1, False)])
def test_fit_shorter_than_the_schedule_is_warned(tmp_path, max_epochs, warns, recwarn):
    cb = GreedyLayerwisePretraining([1, 2])  # stages end at epochs 1 and 3, fine-tuning after
    cb.setup(trainer(tmp_path, [cb], max_epochs=max_epochs), small_ae(), "fit")
    said = [str(w.message) for w in recwarn if "greedy stage" in str(w.message)]
    assert said == (["max_epochs=2 ends before the last greedy stage (epoch 3); the upper layers stay untrained."]
                    if warns else [])


def test_stages_switch_at_the_configured_epochs_and_freeze_the_rest(tmp_path, datamodule):
    cb, snaps = GreedyLayerwisePretraining([1, 2]), Snapshots()
    trainer(tmp_path, [cb, snaps], max_epochs=4).fit(small_ae(), datamodule=datamodule)
    every = set(STAGE1 + STAGE2)
    assert [snaps.trainable[e] for e in range(4)] == [set(STAGE1), set(STAGE2), set(STAGE2), every]
    # frozen parameters get no gradient (so Adam, weight decay included, skips them) and do not move
    assert [snaps.grads_none[e] for e in range(4)] == [set(STAGE2), set(STAGE1), set(STAGE1), set()]
    assert [changed(snaps.start[e], snaps.end[e]) for e in range(4)] == [set(STAGE1), set(STAGE2), set(STAGE2), every]


def test_finetuning_runs_with_its_own_optimizer(tmp_path, datamodule):
    snaps = Snapshots()
    greedy = GreedyLayerwisePretraining([1, 1], finetune_optimizer=partial(torch.optim.SGD, lr=1e-4))
    trainer(tmp_path, [greedy, snaps], max_epochs=4).fit(small_ae(lr=0.01), datamodule=datamodule)
    assert [snaps.lr[e] for e in range(4)] == [0.01, 0.01, 1e-4, 1e-4]
    assert [type(snaps.optimizer[e]).__name__ for e in range(4)] == ["Adam", "Adam", "SGD", "SGD"]


class StepRates(L.Callback):
    """(epoch, learning rate, optimizer, its Adam state size) of every optimizer step."""

    def __init__(self) -> None:
        self.rates: list[tuple[int, float]] = []
        self.optimizers: list[tuple[int, int, int]] = []

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self.rates.append((trainer.current_epoch, optimizer.param_groups[0]["lr"]))
        self.optimizers.append((trainer.current_epoch, id(optimizer), len(optimizer.state)))


def test_each_stage_gets_a_fresh_optimizer_and_finetuning_its_schedule(tmp_path, datamodule):
    steps = StepRates()
    greedy = GreedyLayerwisePretraining([1, 1], finetune_optimizer=partial(torch.optim.Adam, lr=1e-3),
                                        finetune_lr_scheduler=partial(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=2))
    trainer(tmp_path, [greedy, steps], max_epochs=4).fit(small_ae(lr=0.01), datamodule=datamodule)
    assert [lr for _, lr in steps.rates] == pytest.approx([0.01] * 6 + [1e-3] * 3 + [5e-4] * 3)  # 3 steps an epoch
    first = {}
    for epoch, ident, state in steps.optimizers:
        first.setdefault(epoch, (ident, state))
    ids = [first[e][0] for e in range(4)]
    assert ids[0] != ids[1] != ids[2] == ids[3]  # a new optimizer per stage, one for fine-tuning
    assert [first[e][1] for e in range(3)] == [0, 0, 0]  # each begins with no Adam moments


def test_corrupt_hidden_feeds_the_upper_stage_corrupted_hidden_units_in_training(datamodule):
    class Zeroing(Autoencoder):
        def corrupt(self, x):
            return torch.zeros_like(x)

    torch.manual_seed(0)
    model = Zeroing(hidden_dims=[32], latent_dim=8, activation="elu", code_activation="elu")
    greedy = GreedyLayerwisePretraining([1, 1], corrupt_hidden=True)
    greedy.attach(model)
    x = datamodule.split("train")[0][:10]
    h = greedy.lower(x, 1)
    shallow = lambda h_in: greedy.decoder_blocks[1](greedy.encoder_blocks[1](h_in))  # noqa: E731
    loss, h_hat, _ = greedy.stage_objective(model.train(), 1, x, x)
    torch.testing.assert_close(h_hat, shallow(torch.zeros_like(h)))  # the input is corrupted ...
    torch.testing.assert_close(loss, losses.reconstruction(h_hat, h, "mse"))  # ... the target is not
    _, h_hat, _ = greedy.stage_objective(model.eval(), 1, x, x)
    torch.testing.assert_close(h_hat, shallow(h))  # evaluation sees clean hidden units


def test_module_is_fully_trainable_after_fit(tmp_path, datamodule):
    model = small_ae()
    trainer(tmp_path, [GreedyLayerwisePretraining([1, 1])], max_epochs=1).fit(model, datamodule=datamodule)
    assert all(p.requires_grad for p in model.parameters())
    assert model.train_objective is None


def test_stage_objective_is_the_shallow_autoencoder_of_the_frozen_outputs(datamodule):
    model, cb = small_ae(), GreedyLayerwisePretraining([1, 1])
    cb.attach(model)
    x = datamodule.split("train")[0][:16]
    loss1, x_hat, terms1 = cb.stage_objective(model, 0, x, x)  # 784 -> 32 -> 784
    h1 = model.encoder[1](model.encoder[0](x))
    expected = model.decoder[3](model.decoder[2](h1))
    torch.testing.assert_close(x_hat, expected)
    torch.testing.assert_close(loss1, (expected - x).pow(2).mean())
    loss2, h_hat, terms2 = cb.stage_objective(model, 1, x, x)  # 32 -> 8 -> 32 on the frozen h1
    assert h_hat.shape == (16, 32)
    torch.testing.assert_close(loss2, (model.decoder[1](model.decoder[0](model.encoder[3](model.encoder[2](h1)))) - h1).pow(2).mean())
    assert set(terms1) == {"stage1_loss"} and set(terms2) == {"stage2_loss"}


def test_cached_and_uncached_stage_give_the_same_outputs_on_a_fixed_batch(tmp_path, datamodule):
    model, cb = small_ae(), GreedyLayerwisePretraining([1, 1], cache_inputs=True)
    cb.attach(model)
    x_train = datamodule.split("train")[0]
    cb.cache.fill(x_train, cb.lower, 1)
    x = x_train[torch.tensor([5, 17, 3, 299, 42, 17])]  # shuffled, with a repeat
    torch.testing.assert_close(cb.stage_inputs(x, 1), cb.lower(x, 1), rtol=1e-6, atol=1e-6)
    assert torch.equal(cb.cache.rows(x), torch.tensor([5, 17, 3, 299, 42, 17]))
    cached = cb.stage_objective(model, 1, x, x)
    cb.cache.clear()
    uncached = cb.stage_objective(model, 1, x, x)
    torch.testing.assert_close(cached[0], uncached[0], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(cached[1], uncached[1], rtol=1e-6, atol=1e-6)


def test_cached_and_uncached_training_end_at_the_same_weights(tmp_path, datamodule):
    weights = []
    for cache in (False, True):
        model = small_ae()
        L.seed_everything(0)
        trainer(tmp_path, [GreedyLayerwisePretraining([1, 1], cache_inputs=cache)], max_epochs=2).fit(model, datamodule=datamodule)
        weights.append(model.state_dict())
    assert not torch.equal(weights[0]["encoder.2.weight"], small_ae().state_dict()["encoder.2.weight"])
    for k in weights[0]:
        torch.testing.assert_close(weights[1][k], weights[0][k], rtol=1e-4, atol=1e-5)


def test_cache_refuses_batches_that_are_not_training_rows(datamodule):
    model, cb = small_ae(), GreedyLayerwisePretraining([1, 1], cache_inputs=True)
    cb.attach(model)
    cb.cache.fill(datamodule.split("train")[0], cb.lower, 1)
    x = torch.bernoulli(datamodule.split("train")[0][:8])  # dynamic binarisation: new images
    with pytest.raises(ValueError, match="cache_inputs: false"):
        cb.stage_inputs(x, 1)


def test_stage_losses_and_stage_are_logged_to_tensorboard(tmp_path, datamodule):
    logger = L.pytorch.loggers.TensorBoardLogger(tmp_path, name="greedy")
    trainer(tmp_path, [GreedyLayerwisePretraining([1, 1], cache_inputs=True)], max_epochs=3, logger=logger,
            log_every_n_steps=1).fit(small_ae(), datamodule=datamodule)
    events = EventAccumulator(logger.log_dir)
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"greedy/stage", "train/stage1_loss", "train/stage2_loss", "val/mse", "train/loss"} <= tags
    assert [e.value for e in events.Scalars("greedy/stage")] == [1.0, 2.0, 3.0]  # 3: end-to-end fine-tuning
    assert len(events.Scalars("train/stage1_loss")) == 1 and len(events.Scalars("train/stage2_loss")) == 1


def test_resume_mid_schedule_continues_with_the_next_stage(tmp_path, datamodule):
    ckpt_cb = ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)
    trainer(tmp_path, [GreedyLayerwisePretraining([1, 1]), ckpt_cb], max_epochs=1,
            enable_checkpointing=True).fit(small_ae(), datamodule=datamodule)
    ckpt = torch.load(ckpt_cb.last_model_path, weights_only=True)
    state = next(v for k, v in ckpt["callbacks"].items() if "GreedyLayerwisePretraining" in k)
    assert state == {"stage": 0, "epochs_per_stage": [1, 1]}

    resumed, snaps = GreedyLayerwisePretraining([1, 1]), Snapshots()
    model = small_ae(lr=0.02)  # different initial weights: the checkpoint must replace them
    trainer(tmp_path, [resumed, snaps], max_epochs=2).fit(model, datamodule=datamodule, ckpt_path=ckpt_cb.last_model_path)
    assert list(snaps.trainable) == [1] and snaps.trainable[1] == set(STAGE2)
    for k in STAGE1:  # stage 1's layers come from the checkpoint and stay frozen in stage 2
        assert torch.equal(model.state_dict()[k], ckpt["state_dict"][k])
    assert resumed.stage == 1

    with pytest.raises(ValueError, match="same schedule"):
        GreedyLayerwisePretraining([2, 1]).load_state_dict(state)


def test_tied_decoder_stages_train_the_shared_weight_and_the_mirror_bias():
    class Tied(Autoencoder):
        def build_decoder(self, dims, activation, output_activation, init):
            return TiedDecoder(self.encoder, activation, output_activation)

    torch.manual_seed(0)
    model, cb = Tied(hidden_dims=[32], latent_dim=8), GreedyLayerwisePretraining([1, 1])
    cb.attach(model)
    names = {id(p): k for k, p in model.named_parameters()}
    assert {names[id(p)] for p in cb.stage_parameters(0)} == {"encoder.0.weight", "encoder.0.bias", "decoder.biases.1"}
    assert {names[id(p)] for p in cb.stage_parameters(1)} == {"encoder.2.weight", "encoder.2.bias", "decoder.biases.0"}


def test_empty_schedule_is_refused():  # zero or fractional epochs: refused by the parser (PositiveInt)
    with pytest.raises(ValueError, match="epochs_per_stage"):
        GreedyLayerwisePretraining([])


def test_schedule_must_have_one_stage_per_encoder_layer():
    with pytest.raises(ValueError, match=r"784-32-8 has 2 layers.*\[4, 4\]"):
        GreedyLayerwisePretraining([4, 4, 4]).attach(small_ae())


@pytest.mark.parametrize("strategy, refused", [("ddp", True), ("ddp_spawn", True), ("ddp_notebook", True),
                                               ("ddp_find_unused_parameters_true", False), ("auto", False),
                                               ("single_device", False)])
def test_plain_ddp_by_name_is_refused_before_launch(strategy, refused):
    """The frozen layers get no gradient: a registered DDP strategy must say find_unused_parameters."""
    if refused:
        with pytest.raises(ConfigError, match="ddp_find_unused_parameters_true"):
            GreedyLayerwisePretraining.refuse_strategy(strategy)
    else:
        GreedyLayerwisePretraining.refuse_strategy(strategy)
