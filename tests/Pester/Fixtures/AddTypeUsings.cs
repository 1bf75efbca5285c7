// The usings the .NET SDK adds to every project (ImplicitUsings): tests/Core.Tests compiles the fixture
// servers with them, Add-Type (FixtureTypes.psm1) does not, so it compiles this file with them.
global using System;
global using System.Collections.Generic;
global using System.IO;
global using System.Linq;
global using System.Net.Http;
global using System.Threading;
global using System.Threading.Tasks;
