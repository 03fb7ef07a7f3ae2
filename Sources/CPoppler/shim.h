// poppler-glib (Debian: libpoppler-glib-dev, pkg-config name `poppler-glib`).
#include <poppler.h>
#include <glib.h>
#include <glib-object.h>
