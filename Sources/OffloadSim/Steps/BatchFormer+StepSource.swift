extension BatchFormer: StepSource {}
