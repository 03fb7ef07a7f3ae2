// Writing safetensors files: header JSON padded with spaces to a multiple of 8 bytes (so every
// tensor's data is 8-byte aligned, as the Python package does), tensors back to back in the given
// order. Written to a temporary file beside the target and renamed over it, so a reader sees the
// old file or the new one, never half of one.

import CKernels
import Foundation

public enum SafeTensors {
    /// Writes `tensors` (any layout; stored row-major) as `dtype` (.f32, .f16 or .bf16) to `url`.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:],
                             dtype: SafeTensorsDType = .f32, to url: URL) throws {
        let path = url.path
        guard dtype.floatType != nil, let elementSize = dtype.byteSize else {
            throw TensorError.checkpoint("\(path): cannot write dtype \(dtype) (F32, F16, BF16 supported)")
        }
        var seen = Set<String>()
        var header: [String: Any] = [:]
        var offset = 0
        for (name, tensor) in tensors {
            guard name != "__metadata__", seen.insert(name).inserted else {
                throw TensorError.checkpoint("\(path): tensor name '\(name)' is reserved or repeated")
            }
            let bytes = tensor.count * elementSize
            header[name] = ["dtype": dtype.description, "shape": tensor.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))

        var prefix = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { prefix.append(contentsOf: $0) }
        prefix.append(json)
        try writeAtomically(to: url) { handle in
            try handle.write(contentsOf: prefix)
            for (_, tensor) in tensors {
                var chunk = Data()
                appendValues(of: tensor, as: dtype, to: &chunk)
                try handle.write(contentsOf: chunk)
            }
        }
    }

    private static func appendValues(of tensor: Tensor, as dtype: SafeTensorsDType, to out: inout Data) {
        let values = tensor.toArray()  // row-major copy, whatever the view's strides
        switch dtype {
        case .f16, .bf16:
            var halves = [UInt16](repeating: 0, count: values.count)
            if dtype == .f16 { ck_f32_to_f16(values, &halves, values.count) } else { ck_f32_to_bf16(values, &halves, values.count) }
            halves.withUnsafeBytes { out.append(contentsOf: $0) }  // x86/ARM are little-endian, like the format
        default:
            values.withUnsafeBytes { out.append(contentsOf: $0) }
        }
    }

    /// Runs `body` on a temporary file in the target's folder, flushes it to disk, then renames it
    /// over `url`. On any failure the temporary file is removed and the target is left as it was.
    static func writeAtomically(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
                throw TensorError.checkpoint("\(url.path): cannot create temporary file \(temp.path)")
            }
            let handle = try FileHandle(forWritingTo: temp)
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard rename(temp.path, url.path) == 0 else {
                throw TensorError.checkpoint("\(url.path): cannot rename temporary file (\(String(cString: strerror(errno))))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temp)
            if let e = error as? TensorError { throw e }
            throw TensorError.checkpoint("\(url.path): cannot write (\(error.localizedDescription))")
        }
    }
}
