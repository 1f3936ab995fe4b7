// Quantization: BN folding, calibration, int8 export (see issue: int8 model file).
