# Linear, stacked (untied and tied) and sparse autoencoders: lightning_ae/models/{linear,stacked,sparse}.py.
.PHONY: repro-linear repro-stacked repro-tied repro-sparse-kl repro-sparse-l1
.PHONY: repro-sparse-kl-rho05 repro-sparse-kl-l2 repro-sparse-kl-paper repro-sparse-kl-nonneg

# $(call test_metric,CONFIG,KEYS): print test metrics KEYS (space separated) from the first seed's run.json
define test_metric
	$(PY) -c "from lightning_ae.summary import load; m = load('$(LOGS)/$(1)/repro_seed$(SEED0)')['test']['metrics']; \
	print(*(f'{k:<22}{m[k]:10.4f}' for k in '$(2)'.split()), sep='\n')"
endef

repro-linear: install $(call records,pca_2d) $(call records,linear_2d,$(SEED0))  ## linear 784-2-784 autoencoder vs PCA-2: test MSEs and their relative gap (requirement: <= 2%)
	$(PY) -c "from lightning_ae.summary import load; mse = lambda c: load(f'$(LOGS)/{c}/repro_seed$(SEED0)')['test']['metrics']['test/mse']; \
	a, p = mse('linear_2d'), mse('pca_2d'); print(f'linear {a:.5f}  PCA-2 {p:.5f}  |gap|/PCA {abs(a - p) / p:.4%}')"

repro-stacked: install $(call records,stacked,$(SEED0))  ## 784-300-150-300-784 ELU stacked autoencoder (Geron): test MSE, first-layer filters

repro-tied: install $(call records,tied,$(SEED0))  ## the same stacked autoencoder with tied weights (half the weights): test MSE, filters

repro-sparse-kl: install $(call records,sparse_kl,$(SEED0))  ## 784-1000-784 sigmoid-code sparse AE, KL penalty (rho 0.1): test MSE, mean activation
	$(call test_metric,sparse_kl,test/mean_activation test/sparsity)

repro-sparse-l1: install $(call records,sparse_l1,$(SEED0))  ## the same sparse AE with an L1 activity penalty: test MSE, mean activation
	$(call test_metric,sparse_l1,test/mean_activation test/sparsity)

# Seed 004's KL settings on Hosseini-Asl et al.'s 784-196-784 net (p 0.05, beta 3): alone ("blurry"), with
# Keras's l2(0.003) on the weights ("sharper"); at the paper's own cost scale (beta 3/392 on our per-pixel MSE)
# alone and with its nonnegativity penalty (alpha 0.003/392). No published numbers.
repro-sparse-kl-rho05: install $(call records,sparse_kl_rho05,$(SEED0))  ## seed 004's KL sparse AE, p 0.05, beta 3, no weight penalty: test MSE, mean activation
	$(call test_metric,sparse_kl_rho05,test/mse test/mean_activation test/neg_share)

repro-sparse-kl-l2: install $(call records,sparse_kl_l2,$(SEED0))  ## the same + L2 weight penalty 0.003 (Keras kernel_regularizer): test MSE, mean activation
	$(call test_metric,sparse_kl_l2,test/mse test/mean_activation test/neg_share)

repro-sparse-kl-paper: install $(call records,sparse_kl_paper,$(SEED0))  ## the paper's cost scale (beta 3/392 on the per-pixel MSE), no weight penalty: test MSE, mean activation
	$(call test_metric,sparse_kl_paper,test/mse test/mean_activation test/neg_share)

repro-sparse-kl-nonneg: install $(call records,sparse_kl_nonneg,$(SEED0))  ## the same + Hosseini-Asl et al.'s nonnegativity penalty: test MSE, mean activation, negative weights
	$(call test_metric,sparse_kl_nonneg,test/mse test/mean_activation test/neg_share test/neg_weights)

# Seed 004's ordinary 32-D autoencoder: the repro rule's fit and test (Makefile), then the t-SNE picture of
# its test codes into the run's figures/ (lightning_ae/experiments/tsne_codes.py), then the record. (This
# rule's stem is the seed, shorter than the Makefile rule's config name, so make picks this one.)
$(RUNS)/ae_32d/repro/seed%.json: $(REDO_DEP) | $(STAMP)
	rm -rf $(LOGS)/ae_32d/repro_seed$*
	$(CLI) fit  --config configs/ae_32d.yaml --seed_everything $* $(RUN_ARGS) repro_seed$* $(REPRO_ARGS)
	$(CLI) test --config configs/ae_32d.yaml --seed_everything $* $(RUN_ARGS) repro_seed$* $(REPRO_ARGS) --ckpt_path $(LOGS)/ae_32d/repro_seed$*/checkpoints/last.ckpt
	$(PY) -m lightning_ae.experiments.tsne_codes $(LOGS)/ae_32d/repro_seed$*
	$(COLLECT) $(LOGS)/ae_32d/repro_seed$* --version repro

.PHONY: repro-ae-32d
repro-ae-32d: install $(call records,ae_32d,$(SEED0))  ## seed 004's 784-32-784 autoencoder: test MSE, its codes' first 2 units and t-SNE map beside the 2-D VAE

# Géron's 3-D toy set: a linear 3-2-3 autoencoder vs PCA-2 and PCA-1 in closed form (about 15 s on one core).
# The experiment writes the record and its figure itself (no LightningCLI run, so no config file).
$(RUNS)/toy_linear/repro/seed%.json: $(REDO_DEP) | $(STAMP)
	$(PY) -m lightning_ae.experiments.toy_linear --seed $* --runs $(RUNS)

.PHONY: repro-toy-linear
repro-toy-linear: install $(call records,toy_linear,$(SEED0))  ## linear 3-2-3 autoencoder on Geron's 3-D toy set vs PCA (closed form): reconstruction MSEs, subspace angle, both 2-D codes
