// bench-quant: quantized matvec (Q4_1, Q8_0) against Float32 cblas_sgemv. Run in release:
//   swift run -c release bench-quant
runQuantMatvecBench()
