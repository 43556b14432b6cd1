# Greedy layer-wise pretraining (lightning_ae/callbacks/greedy.py) and unsupervised pretraining of a
# classifier (lightning_ae/models/classifier.py). Tables: lightning_ae/experiments/pretrain.py.
.PHONY: repro-greedy repro-pretrain-classifier

GREEDY_RUN := $(LOGS)/greedy_stacked/repro
ENCODER_CKPT ?= $(GREEDY_RUN)/checkpoints/last.ckpt
LABELS ?= 100 1000 20000
CLASSIFIER_ARGS ?=

repro-greedy: install  ## 784-300-150 stacked AE: greedy 4+4 epochs (+4 fine-tuning) vs 12 epochs end to end, test MSEs
	$(call repro,greedy_stacked)
	$(call repro,stacked_e2e)
	rm -rf $(LOGS)/greedy_stacked/repro_pretrain_only
	$(CLI) fit  --config configs/greedy_stacked.yaml --trainer.max_epochs 8 --trainer.logger.init_args.save_dir $(LOGS) --trainer.logger.init_args.version repro_pretrain_only $(REPRO_ARGS)
	$(CLI) test --config configs/greedy_stacked.yaml --trainer.logger.init_args.save_dir $(LOGS) --trainer.logger.init_args.version repro_pretrain_only $(REPRO_ARGS) --ckpt_path $(LOGS)/greedy_stacked/repro_pretrain_only/checkpoints/last.ckpt
	$(PY) -m lightning_ae.experiments.pretrain greedy $(LOGS)/greedy_stacked/repro_pretrain_only $(GREEDY_RUN) $(LOGS)/stacked_e2e/repro

$(ENCODER_CKPT):
	$(MAKE) repro-greedy

repro-pretrain-classifier: install $(ENCODER_CKPT)  ## classifier on 100/1,000/20,000 labels: random vs pretrained-frozen vs fine-tuned test accuracy
	$(PY) -m lightning_ae.experiments.pretrain classifier --encoder-ckpt $(ENCODER_CKPT) --labels $(LABELS) --logs $(LOGS) $(CLASSIFIER_ARGS)
