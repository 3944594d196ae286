using CustomerData.Api;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddCustomerDataApi();

var app = builder.Build();
app.MapCustomerDataApi();
app.Run();

