# Denoising autoencoders (lightning_ae/models/denoising.py): the DeepLearning@Home blog runs and a
# real-noise comparison. Table: lightning_ae/experiments/denoising.py.
# Every run is a file target (its record), so `make -j4 repro-denoising` trains several at once (on a GPU)
# and an interrupted reproduction picks up where it stopped; `make -j1` (the default) runs one at a time.
# Cost: 938 steps per epoch x 100 epochs per run. On one CPU core the 784-10 run took 20 minutes
# (about 12 s/epoch), the deeper nets several times that; six runs at once on one H100 made about
# 130 steps/s each (100 epochs in 12 minutes).
.PHONY: repro-denoising

DAE_BLOG := dae_784_10 dae_784_128_10 dae_784_128_128_10 dae_784_512_128_10 dae_784_1
DAE_CLEAN := dae_784_128_10
# test noise of the comparison: the clean-trained net and the one trained with that noise both score
# the same corrupted test images (eval_noise is left out of checkpoints, so `test` can set it)
DAE_MASKING ?= 0.3
DAE_GAUSSIAN ?= 0.3
# the blog's nets (published numbers) take SEEDS; the noise comparison SEED0 (records: the Makefile's repro rule)
DAE_NOISE_RUNS := $(foreach n,masking gaussian,$(RUNS)/$(DAE_CLEAN)/eval_$(n)/seed$(SEED0).json $(RUNS)/$(DAE_CLEAN)_$(n)/eval_$(n)/seed$(SEED0).json)
DAE_RUNS := $(foreach c,$(DAE_BLOG),$(call records,$(c))) $(foreach c,$(DAE_CLEAN)_masking $(DAE_CLEAN)_gaussian,$(call records,$(c),$(SEED0)))

repro-denoising: install $(DAE_RUNS) $(DAE_NOISE_RUNS)  ## blog's tied sigmoid nets (784-10 ... 784-512-128-10, 100 epochs): test RMSE vs published; masking/Gaussian DAE vs clean net on noisy test images
	$(PY) -m lightning_ae.experiments.denoising --logs $(LOGS) --version repro_seed$(SEED0) --masking $(DAE_MASKING) --gaussian $(DAE_GAUSSIAN)

# $(call dae_noisy_test,RUN,KIND,LEVEL,SEED): test RUN's last checkpoint on inputs corrupted by KIND at LEVEL
define dae_noisy_test
	rm -rf $(LOGS)/$(1)/eval_$(2)_seed$(4)
	$(CLI) test --config configs/$(1).yaml --seed_everything $(4) --trainer.logger.init_args.save_dir $(LOGS) \
		--trainer.logger.init_args.version eval_$(2)_seed$(4) $(REPRO_ARGS) \
		--ckpt_path $(LOGS)/$(1)/repro_seed$(4)/checkpoints/last.ckpt --model.init_args.eval_noise true \
		--model.init_args.eval_noise_kind $(2) --model.init_args.eval_noise_level $(3)
	$(COLLECT) $(LOGS)/$(1)/eval_$(2)_seed$(4) --version eval_$(2)
endef

$(RUNS)/%/eval_masking/seed$(SEED0).json: $(RUNS)/%/repro/seed$(SEED0).json
	$(call dae_noisy_test,$*,masking,$(DAE_MASKING),$(SEED0))

$(RUNS)/%/eval_gaussian/seed$(SEED0).json: $(RUNS)/%/repro/seed$(SEED0).json
	$(call dae_noisy_test,$*,gaussian,$(DAE_GAUSSIAN),$(SEED0))
