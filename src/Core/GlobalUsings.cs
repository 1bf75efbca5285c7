// The file primitives (atomic writer, file lock, recursive delete, private store modes) are used by every
// area; one global using keeps each area's files free of it (and code written before they moved compiling).
global using Containers.Core.FileSystem;
