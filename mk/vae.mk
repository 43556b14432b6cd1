# Variational autoencoders (lightning_ae/models/vae.py): the 2-D pictures and the 20-D likelihood.
.PHONY: repro-vae-2d repro-vae-20d repro-vae-burda repro-iwae-burda repro-vae-burda-1h repro-iwae-burda-1h

# importance samples and test images of test/nll for repro-vae-20d (Burda et al. 2016 use k = 5000 on
# all 10,000 images; VAE_NLL_IMAGES=null scores all of them: about 4 CPU-core minutes per 1,000 images,
# seconds on a GPU). They go to `fit` too: `test --ckpt_path` takes the model's arguments from the checkpoint.
VAE_NLL_SAMPLES ?= 5000
VAE_NLL_IMAGES ?= 1000

# $(call vae_metrics,CONFIG): print the VAE's test numbers (nats, probe accuracies) from its first seed's run.json
define vae_metrics
	$(PY) -c "from lightning_ae.summary import load; m = load('$(LOGS)/$(1)/repro_seed$(SEED0)')['test']['metrics']; \
	print(*(f'{k:<16}{m[k]:10.3f}' for k in ('test/elbo', 'test/nll', 'test/knn_acc', 'test/probe_acc') if k in m), sep='\n')"
endef

repro-vae-2d: install $(call records,vae_2d,$(SEED0))  ## 2-D VAE: latent scatter, 20x20 manifold sweep, prior samples, interpolations; test ELBO
	$(call vae_metrics,vae_2d)

$(call records,vae_20d,$(SEED0)): REPRO_EXTRA = --model.init_args.nll_samples $(VAE_NLL_SAMPLES) --model.init_args.nll_images $(VAE_NLL_IMAGES)
repro-vae-20d: install $(call records,vae_20d,$(SEED0))  ## 784-500-500-20 VAE on binarised MNIST: test ELBO and importance-sampled NLL (k=5000), nats
	$(call vae_metrics,vae_20d)

# Burda et al.'s 784-200-200-50 networks on a CPU budget: their schedule with every stage shortened to
# 3^i * 0.2 epochs over 7 stages (1+1+2+5+16+49+146 = 220 epochs) at batch 100 (batch 20 costs ~30 s an
# epoch on one CPU core, batch 100 ~8 s); NLL with k = 5000 on all 10,000 test images (about 15 CPU-core
# minutes). BURDA_BUDGET= (empty) runs their printed recipe, 3,280 epochs at batch 20 (a GPU job).
BURDA_BUDGET ?= --trainer.max_epochs 220 --lr_scheduler.init_args.stages 7 --lr_scheduler.init_args.epochs_scale 0.2 --data.batch_size 100
BURDA_NLL ?= --model.init_args.nll_samples 5000 --model.init_args.nll_images null

$(call records,vae_burda) $(call records,iwae_burda): REPRO_EXTRA = $(BURDA_BUDGET) $(BURDA_NLL)
repro-vae-burda: install $(call records,vae_burda)  ## Burda et al.'s plain VAE (784-200-200-50) on a CPU budget: test NLL (k=5000, all test images) vs 86.76
	$(call vae_metrics,vae_burda)

repro-iwae-burda: install $(call records,iwae_burda)  ## the same networks as an IWAE (k=5), same budget: test NLL vs 85.54 (k=5) / 84.78 (k=50)
	$(call vae_metrics,iwae_burda)

# The same networks on one hour of the 2-core CPU each (configs/vae_burda_1h.yaml: 500 epochs at batch 100, a
# cosine schedule chosen on the holdout; configs/iwae_burda_1h.yaml: 180 IWAE epochs, the same wall time),
# three seeds each, each scored with k = 5000 on all 10,000 test images (about 10 more CPU-core minutes a seed).
$(call records,vae_burda_1h) $(call records,iwae_burda_1h): REPRO_EXTRA = $(BURDA_NLL)
repro-vae-burda-1h: install $(call records,vae_burda_1h)  ## Burda et al.'s VAE on an hour of CPU, 3 seeds: test NLL (k=5000, all test images) vs 86.76
	$(call vae_metrics,vae_burda_1h)

repro-iwae-burda-1h: install $(call records,iwae_burda_1h)  ## the IWAE (k=5) at the VAE's wall time (180 epochs), 3 seeds: test NLL vs 85.54
	$(call vae_metrics,iwae_burda_1h)
