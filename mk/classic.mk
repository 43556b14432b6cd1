# The classic comparisons: 2-D autoencoder vs PCA (the Cross Validated answer and its R version) and
# Hinton & Salakhutdinov's deep autoencoders (Science 2006). Every run: $(LOGS)/<config>/repro.
.PHONY: repro-pca-vs-ae repro-25-epochs repro-hinton2006

repro-pca-vs-ae: install  ## PCA-2 vs the 784-512-128-2 ELU autoencoder, 5 epochs (published test MSE 0.0557 vs 0.0407)
	$(call repro,pca_2d)
	$(call repro,ae_2d)
	$(PY) -m lightning_ae.summary $(LOGS)/pca_2d/repro $(LOGS)/ae_2d/repro

repro-25-epochs: install  ## the same autoencoder for 25 epochs vs PCA-9 (published test MSE 0.0359 vs 0.0356)
	$(call repro,ae_2d_25ep)
	$(call repro,pca_9)
	$(PY) -m lightning_ae.summary $(LOGS)/ae_2d_25ep/repro $(LOGS)/pca_9/repro

repro-hinton2006: install  ## 784-1000-500-250-30 vs PCA-30, squared error per test image (published 3.00 vs 13.87); 2-D codes
	$(call repro,pca_30)
	$(call repro,hinton_30d)
	$(call repro,hinton_2d)
	$(PY) -m lightning_ae.summary $(LOGS)/pca_30/repro $(LOGS)/hinton_30d/repro $(LOGS)/hinton_2d/repro
