// Layers are classes holding parameter tensors; models compose them. Parameter names are the
// checkpoint's own keys (relative to the module; containers add their prefix), so a Hugging Face
// or PEFT checkpoint loads by name.
//
// Layers are `@unchecked Sendable`: their parameters change only while loading or in an optimizer
// step, which the caller runs exclusively; concurrent inference (under `noGrad`) only reads them.
// A KVCache belongs to one generation and is not shared.

public protocol Module: AnyObject {
    /// Every parameter with its checkpoint name relative to this module, e.g. ("q_proj.weight", w).
    func namedParameters() -> [(String, Tensor)]
}

extension Module {
    public func parameters() -> [Tensor] { namedParameters().map { $0.1 } }

    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.count } }

    /// Copies each parameter's values from `tensors[prefix + name]`. Throws naming the parameter
    /// when it is missing or its shape differs. Keys in `tensors` that are not parameters are ignored.
    public func load(from tensors: [String: Tensor], prefix: String = "") throws {
        for (name, p) in namedParameters() {
            let key = prefix + name
            guard let src = tensors[key] else { throw TensorError.checkpoint("missing parameter \(key)") }
            guard src.shape == p.shape else {
                throw TensorError.checkpoint("parameter \(key): checkpoint shape \(src.shape), model expects \(p.shape)")
            }
            p.assignNoGrad(src)
        }
    }

    /// Sets `requiresGrad` on every parameter (false freezes the module).
    public func setTrainable(_ on: Bool) {
        for p in parameters() { p.requiresGrad = on }
    }
}

/// Prefixes each name with `prefix` + "." (the container's attribute name).
public func prefixed(_ prefix: String, _ params: [(String, Tensor)]) -> [(String, Tensor)] {
    params.map { (prefix + "." + $0.0, $0.1) }
}

/// A parameter tensor: a leaf that requires a gradient.
func parameter(_ t: Tensor) -> Tensor {
    t.requiresGrad = true
    return t
}
