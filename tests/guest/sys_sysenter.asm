; SYSENTER from ring 3 to ring 0 and SYSEXIT back, checking CS, SS, ESP,
; EIP and the privilege level on each side.  Ring 3 is reached with IRET
; to an outer ring; it runs with IOPL 3 so it can report.
; umbra-args: -bios {bin} -no-reboot
%include "sys_lib.inc"
[bits 16]
org 0
start:
    ENTER_PM32 pm
pm:
    STD_IDT
    ; SYSENTER_CS = flat ring-0 code; SS follows at +8
    mov ecx, 0x174
    mov eax, SEL_FLATC0
    xor edx, edx
    wrmsr
    mov ecx, 0x175
    mov eax, 0x6800
    wrmsr
    mov ecx, 0x176
    mov eax, ROM + kernel_entry
    wrmsr
    ; IRET to ring 3 (flat code base 0, so EIP is linear), IOPL 3
    push dword SEL_FLATD3 | 3
    push dword 0x9000
    push dword 0x3002
    push dword SEL_FLATC3 | 3
    push dword ROM + user
    iretd

user:
    mov ax, SEL_FLATD3 | 3
    mov ds, ax
    mov es, ax
    mov eax, cs
    CHK "user cs", eax, SEL_FLATC3 | 3
    mov eax, esp
    CHK "user esp", eax, 0x9000
    sysenter
    ud2                         ; SYSENTER never falls through

kernel_entry:
    mov eax, cs
    CHK "sysenter cs", eax, SEL_FLATC0
    mov eax, ss
    CHK "sysenter ss", eax, SEL_FLATC0 + 8
    mov eax, esp
    CHK "sysenter esp", eax, 0x6800
    pushfd
    pop eax
    and eax, 0x200              ; IF cleared
    CHK "sysenter if", eax, 0
    ; here is where a kernel would work; return to the user
    mov ecx, 0x9100
    mov edx, ROM + user_back
    sysexit

user_back:
    mov eax, cs
    CHK "sysexit cs", eax, SEL_FLATC0 + 16 + 3
    mov eax, ss
    CHK "sysexit ss", eax, SEL_FLATC0 + 24 + 3
    mov eax, esp
    CHK "sysexit esp", eax, 0x9100
    call .here
.here:
    pop eax
    CHK "sysexit eip", eax, ROM + .here
    FINISH

    STD_GDT
    SYS_HELPERS
    UNEXPECTED_STUBS
    ROM_END start
