# The classic comparisons: 2-D autoencoder vs PCA (the Cross Validated answer and its R version) and
# Hinton & Salakhutdinov's deep autoencoders (Science 2006). Every run: $(LOGS)/<config>/repro_seedN,
# its record $(RUNS)/<config>/repro/seedN.json (the Makefile's repro rule).
.PHONY: repro-pca-vs-ae repro-25-epochs repro-hinton2006

repro-pca-vs-ae: install $(call records,pca_2d) $(call records,ae_2d)  ## PCA-2 vs the 784-512-128-2 ELU autoencoder, 5 epochs (published: PCA-2 train MSE 0.056, autoencoder test MSE 0.0407)
	$(PY) -m lightning_ae.summary $(LOGS)/pca_2d/repro_seed* $(LOGS)/ae_2d/repro_seed*

repro-25-epochs: install $(call records,ae_2d_25ep) $(call records,pca_9)  ## the same autoencoder for 25 epochs vs PCA-9 (published test MSE 0.0359 vs 0.0356)
	$(PY) -m lightning_ae.summary $(LOGS)/ae_2d_25ep/repro_seed* $(LOGS)/pca_9/repro_seed*

repro-hinton2006: install $(call records,pca_30) $(call records,hinton_30d) $(call records,hinton_2d,$(SEED0))  ## 784-1000-500-250-30 vs PCA-30, squared error per test image (published 3.00 vs 13.87); 2-D codes
	$(PY) -m lightning_ae.summary $(LOGS)/pca_30/repro_seed* $(LOGS)/hinton_30d/repro_seed* $(LOGS)/hinton_2d/repro_seed*
