# Variational autoencoders (lightning_ae/models/vae.py): the 2-D pictures and the 20-D likelihood.
.PHONY: repro-vae-2d repro-vae-20d

# importance samples and test images of test/nll for repro-vae-20d (Burda et al. 2016 use k = 5000 on
# all 10,000 images; VAE_NLL_IMAGES=null scores all of them: about 4 CPU-core minutes per 1,000 images,
# seconds on a GPU). They go to `fit` too: `test --ckpt_path` takes the model's arguments from the checkpoint.
VAE_NLL_SAMPLES ?= 5000
VAE_NLL_IMAGES ?= 1000

# $(call vae_metrics,CONFIG): print the VAE's test numbers (nats, probe accuracies) from its run.json
define vae_metrics
	$(PY) -c "from lightning_ae.summary import load; m = load('$(LOGS)/$(1)/repro')['test']['metrics']; \
	print(*(f'{k:<16}{m[k]:10.3f}' for k in ('test/elbo', 'test/nll', 'test/knn_acc', 'test/probe_acc') if k in m), sep='\n')"
endef

repro-vae-2d: install  ## 2-D VAE: latent scatter, 20x20 manifold sweep, prior samples, interpolations; test ELBO
	$(call repro,vae_2d)
	$(call vae_metrics,vae_2d)

repro-vae-20d: install  ## 784-500-500-20 VAE on binarised MNIST: test ELBO and importance-sampled NLL (k=5000), nats
	$(call repro,vae_20d,--model.init_args.nll_samples $(VAE_NLL_SAMPLES) --model.init_args.nll_images $(VAE_NLL_IMAGES))
	$(call vae_metrics,vae_20d)
