# Greedy layer-wise pretraining (lightning_ae/callbacks/greedy.py) and unsupervised pretraining of a
# classifier (lightning_ae/models/classifier.py). Tables: lightning_ae/experiments/pretrain.py.
#
# Measured on one CPU thread (shared machine), from an empty LOGS:
#   make repro-greedy (12.4 min wall, 5.7 min CPU): test MSE 0.0102 after the notebook's 4+4 greedy
#     epochs (the seed's text holds no test MSE), 0.0088 after 2 more fine-tuning epochs, 0.0098 end to end on 10 epochs.
#   make repro-pretrain-classifier (7.0 min), test accuracy, mean ± std over 3 seeds (labelled subset + init):
#     labels   random          frozen          fine-tuned      (greedy_stacked encoder, Adam 0.01, L2 5e-4, ~534 steps)
#     100      0.757 ± 0.021   0.760 ± 0.020   0.740 ± 0.011
#     1,000    0.897 ± 0.007   0.873 ± 0.000   0.891 ± 0.004
#     20,000   0.933 ± 0.011   0.909 ± 0.002   0.947 ± 0.009
#   make repro-pretrain-classifier-denoising (the same with ENCODER=greedy_stacked_denoising LABELS="100 1000"):
#     100      0.757 ± 0.021   0.798 ± 0.016   0.754 ± 0.023
#     1,000    0.897 ± 0.007   0.895 ± 0.002   0.900 ± 0.008
#   make repro-classifier-full (3 seeds, ~2.5 min fit each): 784-800-800 dropout MLP, 15 epochs, all 55,000 training
#     labels: test error 1.39% ± 0.05 (reports/README.md).
#   make -j2 repro-classifier-noisy-bn (3 seeds, one thread each, ~26 min a fit): the ladder paper's supervised
#     baseline, test error 0.95% ± 0.06 (0.89, 0.96, 1.00%), beats Srivastava et al.'s 1.06%.
# Budgets, not yet measured in full (the long runs are queued by hand; one CPU core, shared machine):
#   make repro-classifier-dropout: 3 seeds x 50 epochs x 25-43 s = 20-35 min a seed, 1-1.8 h in all.
#   make repro-classifier-pretrained: sdae_1024x3 once (24 greedy epochs, ~13 min) + 3 seeds x 20-35 min.
#   DROPOUT_RECIPE=paper (3,000 epochs a seed): a GPU job.
# The few-label tables with the larger encoder: make repro-pretrain-classifier ENCODER=sdae_1024x3 LABELS="100 1000".
.PHONY: repro-greedy repro-greedy-denoising repro-pretrain-classifier repro-pretrain-classifier-denoising repro-classifier-full repro-classifier-long repro-classifier-noisy-bn repro-classifier-dropout repro-classifier-pretrained

# the greedy rule's run folders ($* is the seed there)
GREEDY_RUN = $(LOGS)/greedy_stacked/repro_seed$*
PRETRAIN_RUN = $(LOGS)/greedy_stacked/repro_pretrain_only_seed$*
# the autoencoder run whose encoder the classifiers reuse: greedy_stacked or greedy_stacked_denoising
ENCODER ?= greedy_stacked
ENCODER_CKPT ?= $(LOGS)/$(ENCODER)/repro_seed$(SEED0)/checkpoints/last.ckpt
ENCODER_RECORD = $(RUNS)/$(ENCODER)/repro/seed$(SEED0).json
LABELS ?= 100 1000 20000
CLASSIFIER_ARGS ?=
GREEDY_FIT = $(CLI) fit --config configs/greedy_stacked.yaml --trainer.logger.init_args.save_dir $(LOGS)
GREEDY_TEST = $(CLI) test --config configs/greedy_stacked.yaml --trainer.logger.init_args.save_dir $(LOGS)

# The greedy run is the pretrain-only run (the notebook's 4+4 epochs, tested on its own) resumed
# from its last checkpoint for the fine-tuning epochs, up to epoch 10: one training, two test MSEs.
# (The resumed fit names its 10 epochs after REPRO_ARGS, so that repro-quick's short budget shortens the
# pretraining but still leaves epochs to resume into.) Its records, per seed: greedy_stacked/repro_pretrain_only
# and greedy_stacked/repro (whose fit wall time sums both processes: RunRecord's state rides in the checkpoint).
$(RUNS)/greedy_stacked/repro/seed%.json $(RUNS)/greedy_stacked/repro_pretrain_only/seed%.json: $(REDO_DEP) | $(STAMP)
	rm -rf $(PRETRAIN_RUN) $(GREEDY_RUN)
	$(GREEDY_FIT) --seed_everything $* --trainer.max_epochs 8 --trainer.logger.init_args.version repro_pretrain_only_seed$* $(REPRO_ARGS)
	$(GREEDY_TEST) --seed_everything $* --trainer.logger.init_args.version repro_pretrain_only_seed$* $(REPRO_ARGS) --ckpt_path $(PRETRAIN_RUN)/checkpoints/last.ckpt
	$(COLLECT) $(PRETRAIN_RUN) --version repro_pretrain_only
	$(GREEDY_FIT) --seed_everything $* --trainer.logger.init_args.version repro_seed$* $(REPRO_ARGS) --trainer.max_epochs 10 --ckpt_path $(PRETRAIN_RUN)/checkpoints/last.ckpt
	$(GREEDY_TEST) --seed_everything $* --trainer.logger.init_args.version repro_seed$* $(REPRO_ARGS) --ckpt_path $(GREEDY_RUN)/checkpoints/last.ckpt
	$(COLLECT) $(GREEDY_RUN) --version repro

repro-greedy: install $(call records,greedy_stacked,$(SEED0)) $(call records,stacked_e2e,$(SEED0))  ## 784-300-150 stacked AE: greedy 4+4 epochs (+2 fine-tuning) vs 10 epochs end to end, test MSEs
	$(PY) -m lightning_ae.experiments.pretrain greedy $(LOGS)/greedy_stacked/repro_pretrain_only_seed$(SEED0) \
		$(LOGS)/greedy_stacked/repro_seed$(SEED0) $(LOGS)/stacked_e2e/repro_seed$(SEED0)

repro-greedy-denoising: install $(call records,greedy_stacked_denoising,$(SEED0))  ## the same net as a stacked denoising autoencoder (masking 0.5 per stage), test MSE

# the classifier tables: written by the experiment under $(LOGS)/pretrain_classifier, the newest copied
# into $(RUNS)/pretrain_classifier for the report
repro-pretrain-classifier: install $(ENCODER_RECORD)  ## classifier on 100/1,000/20,000 labels: random vs pretrained-frozen vs fine-tuned test accuracy
	$(PY) -m lightning_ae.experiments.pretrain classifier --encoder-ckpt $(ENCODER_CKPT) --labels $(LABELS) --logs $(LOGS) $(CLASSIFIER_ARGS)
	mkdir -p $(RUNS)/pretrain_classifier
	cp "$$(ls -t $(LOGS)/pretrain_classifier/table_$(ENCODER)_lr*.md | head -1)" $(RUNS)/pretrain_classifier/

DENOISING_LABELS ?= 100 1000
repro-pretrain-classifier-denoising: install $(RUNS)/greedy_stacked_denoising/repro/seed$(SEED0).json  ## the same classifier table with the stacked denoising encoder (100 and 1,000 labels)
	$(MAKE) --no-print-directory repro-pretrain-classifier ENCODER=greedy_stacked_denoising LABELS="$(DENOISING_LABELS)" REDO=

repro-classifier-full: install $(call records,classifier_full)  ## 784-800-800 dropout MLP on all 60,000 labels, test error (vs Hinton & Salakhutdinov's 1.2%)
repro-classifier-long: install $(call records,classifier_long)  ## the same MLP, 100 epochs, dropout + max-norm (vs Srivastava et al.'s 1.06%), all labels, test error
repro-classifier-noisy-bn: install $(call records,classifier_noisy_bn)  ## the ladder paper's supervised baseline: 784-1000-500-250-250-250 MLP, batch norm + Gaussian noise, 150 epochs, all labels, test error

# The dropout classifiers' budget (configs/classifier_dropout.yaml, configs/classifier_pretrained.yaml):
# cpu, the configs' own 50 epochs (20-35 min a seed on one CPU core, 3 seeds); paper, the printed schedule of
# Hinton et al. 2012 (Appendix A): 3,000 epochs, the rate x 0.998 an epoch, momentum 0.5 -> 0.99 over 500
# epochs (a GPU job: ~1 day a seed on one CPU core). The records are the same files either way: their
# resolved configs and epochs say which ran.
DROPOUT_RECIPE ?= cpu
DROPOUT_BUDGET_cpu :=
DROPOUT_BUDGET_paper := --trainer.max_epochs 3000 --lr_scheduler.init_args.gamma 0.998 --lr_scheduler.init_args.ramp_epochs 500
DROPOUT_BUDGET ?= $(DROPOUT_BUDGET_$(DROPOUT_RECIPE))
$(call records,classifier_dropout): REPRO_EXTRA = $(DROPOUT_BUDGET)
repro-classifier-dropout: install $(call records,classifier_dropout)  ## 784-1024x3 ReLU MLP, dropout + max-norm (Srivastava et al. 2014: 1.06%), all labels, test error

# The same classifier fine-tuned from a pretrained encoder: the greedy stacked denoising autoencoder
# configs/sdae_1024x3.yaml (one seed, ~13 min), whose record is an order-only prerequisite (made if missing,
# never a reason to remake the classifier's records) and whose last.ckpt in $(LOGS) is the encoder_ckpt of
# all three classifier seeds (so their spread leaves out the autoencoder's seed). `private`: the
# autoencoder's run, made as a prerequisite, does not inherit the classifier's arguments.
# CLASSIFIER_PRETRAINED_ARGS: the fine-tuning rate (holdout, 1 epoch: 0.938 at 0.3, 0.856 at the config's 1.0
# from random weights; configs/classifier_pretrained.yaml) and any holdout comparison, e.g. "--optimizer.lr 0.1".
SDAE_CKPT ?= $(LOGS)/sdae_1024x3/repro_seed$(SEED0)/checkpoints/last.ckpt
CLASSIFIER_PRETRAINED_ARGS ?= --optimizer.lr 0.3
$(call records,classifier_pretrained): | $(call records,sdae_1024x3,$(SEED0))
$(call records,classifier_pretrained): private REPRO_EXTRA = --model.init_args.encoder_ckpt $(SDAE_CKPT) $(DROPOUT_BUDGET) $(CLASSIFIER_PRETRAINED_ARGS)
repro-classifier-pretrained: install $(call records,classifier_pretrained)  ## the dropout MLP fine-tuned from a greedy stacked denoising AE (784-1024x3), all labels, test error vs 1.2% / 0.92%
