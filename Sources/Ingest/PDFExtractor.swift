import CPoppler
import Foundation

/// Text of each page of a PDF through poppler-glib. One document per call (poppler documents are
/// not shared between threads); every pointer is checked and everything is released.
enum PDFExtractor {
    struct Extracted {
        var pages: [String]   // page i+1's text, "" for a page without text
        var title: String?
    }

    static func extract(_ url: URL, shownAs path: String) throws(IngestError) -> Extracted {
        var error: UnsafeMutablePointer<GError>? = nil
        guard let uriPointer = g_filename_to_uri(url.path, nil, &error) else {
            throw IngestError(path: path, kind: .unreadable, reason: "invalid file name: \(takeMessage(&error))")
        }
        defer { g_free(uriPointer) }

        guard let document = poppler_document_new_from_file(uriPointer, nil, &error) else {
            let code = error.flatMap { $0.pointee.domain == poppler_error_quark() ? $0.pointee.code : nil }
            let message = takeMessage(&error)
            if code == Int32(POPPLER_ERROR_ENCRYPTED.rawValue) {
                throw IngestError(path: path, kind: .encrypted, reason: "encrypted PDF (\(message))")
            }
            if code == Int32(POPPLER_ERROR_OPEN_FILE.rawValue) {
                throw IngestError(path: path, kind: .unreadable, reason: "cannot open PDF (\(message))")
            }
            throw IngestError(path: path, kind: .corrupt, reason: "corrupt PDF (\(message))")
        }
        defer { g_object_unref(UnsafeMutableRawPointer(document)) }

        let pageCount = Int(poppler_document_get_n_pages(document))
        var pages: [String] = []
        pages.reserveCapacity(max(pageCount, 0))
        for index in 0..<max(pageCount, 0) {
            guard let page = poppler_document_get_page(document, Int32(index)) else {
                pages.append("")  // an unreadable page keeps its number, without text
                continue
            }
            defer { g_object_unref(UnsafeMutableRawPointer(page)) }
            guard let text = poppler_page_get_text(page) else {
                pages.append("")
                continue
            }
            pages.append(String(cString: text))
            g_free(text)
        }

        var title: String? = nil
        if let raw = poppler_document_get_title(document) {
            let value = String(cString: raw).trimmingCharacters(in: .whitespacesAndNewlines)
            title = value.isEmpty ? nil : value
            g_free(raw)
        }
        return Extracted(pages: pages, title: title)
    }

    /// The GError's message (or a fallback), freeing the error.
    private static func takeMessage(_ error: inout UnsafeMutablePointer<GError>?) -> String {
        guard let e = error else { return "unknown poppler error" }
        let message = e.pointee.message.map { String(cString: $0) } ?? "unknown poppler error"
        g_error_free(e)
        error = nil
        return message
    }
}
