# Settings chosen on the holdout (issue 15): the configs whose settings were chosen with the test set in
# view, chosen again. `make choose-<config>` fits each candidate that lightning_ae/report/choices.py declares
# for it, one at a time, with --data.val_split holdout and seed 0, never tests it, and writes its record
# $(RUNS)/<config>/holdout/<slug>.json (holdout metric at the end of the fit, overrides, seed, commit,
# wall time); a candidate with a record is not fitted again (REDO=1 fits all). `make report` shows every
# candidate's number and the winner; tests/test_choices.py fails if configs/<config>.yaml does not carry it.
# CHOOSE_ARGS go to every fit (a short budget for a smoke test; the records name them).
# Measured on the shared 2-core CPU, one BLAS thread, per candidate: greedy_stacked about 1 min,
# sparse_kl about 2, dae_784_10 and ae_2d_25ep about 4, hinton_30d about 15-17.
CHOOSE_ARGS ?=
CHOOSE = $(PY) -m lightning_ae.report.choose --runs $(RUNS) --logs $(LOGS) $(if $(REDO),--redo)
.PHONY: choose choose-ae_2d_25ep choose-dae_784_10 choose-greedy_stacked choose-hinton_30d choose-sparse_kl choose-vae_burda_1h choose-classifier_dropout choose-classifier_long

choose-ae_2d_25ep: install  ## ae_2d_25ep: Adam lr 1e-3 .. 5e-3, constant or cosine, on the holdout (4 candidates)
	$(CHOOSE) ae_2d_25ep $(if $(CHOOSE_ARGS),-- $(CHOOSE_ARGS))

choose-dae_784_10: install  ## dae_784_10: TF 1's RMSprop vs PyTorch's at lr 0.1, on the holdout (2 candidates)
	$(CHOOSE) dae_784_10 $(if $(CHOOSE_ARGS),-- $(CHOOSE_ARGS))

choose-greedy_stacked: install  ## greedy_stacked: the fine-tuning schedule, on the holdout (7 candidates)
	$(CHOOSE) greedy_stacked $(if $(CHOOSE_ARGS),-- $(CHOOSE_ARGS))

choose-hinton_30d: install  ## hinton_30d: epochs and AdamW weight decay, on the holdout (4 candidates, ~16 min each)
	$(CHOOSE) hinton_30d $(if $(CHOOSE_ARGS),-- $(CHOOSE_ARGS))

choose-vae_burda_1h: install  ## vae_burda_1h: cosine start and KL warm-up, screened at 100 epochs on the holdout (5 candidates, ~10 min each)
	$(CHOOSE) vae_burda_1h $(if $(CHOOSE_ARGS),-- $(CHOOSE_ARGS))

choose-sparse_kl: install  ## sparse_kl: batch size x learning rate, on the holdout (6 candidates)
	$(CHOOSE) sparse_kl $(if $(CHOOSE_ARGS),-- $(CHOOSE_ARGS))

choose-classifier_dropout: install  ## classifier_dropout: the SGD rate, 1.0 vs 0.3 vs 0.1, 50 epochs each on the holdout (3 candidates, ~25 min each)
	$(CHOOSE) classifier_dropout $(if $(CHOOSE_ARGS),-- $(CHOOSE_ARGS))

choose-classifier_long: install  ## classifier_long: hidden dropout 0.3 vs 0.5, 100 epochs each on the holdout (2 candidates, ~10-17 min each)
	$(CHOOSE) classifier_long $(if $(CHOOSE_ARGS),-- $(CHOOSE_ARGS))

choose: choose-greedy_stacked choose-sparse_kl choose-dae_784_10 choose-ae_2d_25ep choose-hinton_30d choose-vae_burda_1h choose-classifier_dropout choose-classifier_long  ## every choice above, then the report
	$(MAKE) --no-print-directory report
