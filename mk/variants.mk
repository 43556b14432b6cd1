# Linear, stacked (untied and tied) and sparse autoencoders: lightning_ae/models/{linear,stacked,sparse}.py.
.PHONY: repro-linear repro-stacked repro-tied repro-sparse-kl repro-sparse-l1

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
