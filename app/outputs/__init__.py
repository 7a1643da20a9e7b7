"""Where the stylised stream goes: video files, recordings and the virtual camera."""
