from lightning_ae.report import main

main()
